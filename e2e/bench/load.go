package bench

import "time"

// NoopPath is the path of the bench server's no-op handler, which allows every AdmissionReview
// without looking at it: the floor the other handlers are compared with.
const NoopPath = "/bench-noop"

// Load modes of the load generator.
const (
	// ModeClosed keeps a fixed number of requests in flight, one per connection, as fast as the
	// server answers: the throughput at saturation.
	ModeClosed = "closed"
	// ModeOpen sends at a fixed rate whatever the server does (open loop); a request's latency
	// counts from when it was due, so a server that falls behind is charged for the queue too.
	ModeOpen = "open"
)

// LoadResult is what one load generator run reports, as JSON on its standard output.
type LoadResult struct {
	// Mode is ModeClosed or ModeOpen; URL is where the AdmissionReviews went.
	Mode string `json:"mode"`
	URL  string `json:"url"`
	// Connections is the number of keep-alive connections (and the most requests in flight).
	Connections int `json:"connections"`
	// Rate is the offered rate of an open-loop run, per second.
	Rate float64 `json:"rate,omitempty"`
	// Elapsed is how long the measured part ran.
	Elapsed time.Duration `json:"elapsed"`
	// Completed counts answered requests (HTTP 200 with the expected content); Errors the rest.
	Completed int `json:"completed"`
	Errors    int `json:"errors"`
	// FirstError describes the first failed request, if any.
	FirstError string `json:"firstError,omitempty"`
	// PerSecond is Completed over Elapsed.
	PerSecond float64 `json:"perSecond"`
	// Latency summarises the completed requests.
	Latency Summary `json:"latency"`
	// Samples are the latencies of the completed requests, in no particular order.
	Samples []time.Duration `json:"samples,omitempty"`
}

// Add merges run into r, a result of the same mode, URL and load: counts, elapsed time and
// samples add up, the rate and the summary are recomputed. The zero LoadResult is a valid r.
func (r *LoadResult) Add(run *LoadResult) {
	if r.Mode == "" {
		r.Mode, r.URL, r.Connections, r.Rate = run.Mode, run.URL, run.Connections, run.Rate
	}
	r.Elapsed += run.Elapsed
	r.Completed += run.Completed
	r.Errors += run.Errors
	if r.FirstError == "" {
		r.FirstError = run.FirstError
	}
	r.Samples = append(r.Samples, run.Samples...)
	if r.Elapsed > 0 {
		r.PerSecond = float64(r.Completed) / r.Elapsed.Seconds()
	}
	r.Latency = Summarize(append([]time.Duration(nil), r.Samples...))
}
