package bench

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// CPUProfile is serve's CPU profile over part 4, summed by kind of work.
type CPUProfile struct {
	// Duration is how long the profiles ran, Total the CPU time they sampled.
	Duration, Total time.Duration
	// Reviews is how many admission reviews serve answered meanwhile (0: unknown).
	Reviews int
	// Shares are the kinds of work, most CPU first.
	Shares []CPUShare
}

// CPUShare is the CPU time of one kind of work: InRequests inside the webhook server's handling
// of a request (connection, TLS, HTTP, the review's JSON, the handler), Elsewhere in the rest of
// the process (informers, controllers, the Go runtime's background work).
type CPUShare struct {
	Kind                  string
	InRequests, Elsewhere time.Duration
}

// The kinds of work, each recognised by the first frame, from the leaf up, whose function name
// has one of its prefixes. Runtime frames (allocation, GC assists, the scheduler) match no kind:
// they are the cost of the code that called them. A stack of runtime frames alone is the
// runtime's own background work (GC workers, scavenger, scheduler).
var cpuKinds = []struct{ kind, prefixes string }{
	{"JSON patch: computing it (diff of the trees)", "github.com/metrics-proxy/injector/webhook/admission.diffJSON gomodules.xyz/jsonpatch"},
	{"policy: validating haproxy.cfg and the DaemonSet", "github.com/metrics-proxy/injector/webhook/policy."},
	{"JSON: encoding and decoding (reviews, objects, patches)", "encoding/json. sigs.k8s.io/json k8s.io/apimachinery/pkg/runtime/serializer encoding/base64. github.com/json-iterator"},
	{"injection: the merge and the mutation, outside JSON", "github.com/metrics-proxy/injector/webhook/inject."},
	{"TLS: encryption and records", "crypto/"},
	{"logging: one line per decision", "log/slog. github.com/go-logr/"},
	{"metrics: counters and histograms", "github.com/prometheus/"},
	{"socket and file I/O (system calls)", "syscall. internal/poll. internal/runtime/syscall. net."},
	{"HTTP: requests and responses", "net/http. bufio. golang.org/x/net/http2."},
	{"informers and API reads (client-go), outside JSON", "k8s.io/client-go/ k8s.io/apimachinery/pkg/watch"},
	{"the handlers and controller-runtime, the rest", "github.com/metrics-proxy/ sigs.k8s.io/controller-runtime/"},
}

const (
	// KindRuntime is the runtime's own background work; KindOther what no kind matched.
	KindRuntime = "Go runtime: GC workers, scavenger, scheduler"
	// KindScrapes is serve's /metrics and /debug/pprof/ answering the benchmark.
	KindScrapes = "answering the benchmark's reads of /metrics and /debug/pprof/"
	KindOther   = "other"
)

// CPUKind returns the kind of work of a sample whose stack is frames (function names, the leaf
// first), and whether it ran in the webhook server's handling of a request: under net/http's
// connection handler, unless that serves /metrics or /debug/pprof/ (KindScrapes).
func CPUKind(frames []string) (kind string, inRequest bool) {
	for _, f := range frames {
		switch {
		case f == "net/http.(*conn).serve":
			inRequest = true
		case strings.HasPrefix(f, "github.com/prometheus/client_golang/prometheus/promhttp.HandlerFor"),
			strings.HasPrefix(f, "net/http/pprof."):
			return KindScrapes, false
		}
	}
	allRuntime := true
	for _, f := range frames {
		if strings.HasPrefix(f, "runtime.") || strings.HasPrefix(f, "internal/runtime/") && !strings.HasPrefix(f, "internal/runtime/syscall.") {
			continue
		}
		allRuntime = false
		for _, k := range cpuKinds {
			for _, p := range strings.Fields(k.prefixes) {
				if strings.HasPrefix(f, p) {
					return k.kind, inRequest
				}
			}
		}
	}
	if allRuntime {
		return KindRuntime, inRequest
	}
	return KindOther, inRequest
}

// AddSample adds d of CPU time of a sample with stack frames.
func (p *CPUProfile) AddSample(frames []string, d time.Duration) {
	kind, in := CPUKind(frames)
	p.Total += d
	for i := range p.Shares {
		if p.Shares[i].Kind == kind {
			p.Shares[i].add(in, d)
			return
		}
	}
	p.Shares = append(p.Shares, CPUShare{Kind: kind})
	p.Shares[len(p.Shares)-1].add(in, d)
}

func (s *CPUShare) add(in bool, d time.Duration) {
	if in {
		s.InRequests += d
	} else {
		s.Elsewhere += d
	}
}

// Sort orders the shares, most CPU first.
func (p *CPUProfile) Sort() {
	sort.SliceStable(p.Shares, func(i, j int) bool {
		return p.Shares[i].InRequests+p.Shares[i].Elsewhere > p.Shares[j].InRequests+p.Shares[j].Elsewhere
	})
}

func writeCPUProfile(b *strings.Builder, p *CPUProfile) {
	if p == nil || p.Total == 0 {
		return
	}
	var in time.Duration
	for _, s := range p.Shares {
		in += s.InRequests
	}
	fmt.Fprintf(b, "\nserve's own CPU over part 4, from its CPU profile (`--pprof-bind-address`, %s of profiles, %s of CPU sampled; "+
		"the profiler's own cost is in the figures above): each sample goes to the kind of work of the first frame, from the leaf up, "+
		"that is not the Go runtime's, so that allocation and GC assists count for the code that allocated. "+
		"In requests: in the webhook server's handling of a request, from the connection to the response.", p.Duration.Round(time.Second), p.Total.Round(time.Millisecond))
	if p.Reviews > 0 {
		fmt.Fprintf(b, " Per review: over the %d admission reviews serve answered meanwhile.", p.Reviews)
	}
	fmt.Fprintf(b, "\n\n| kind of work | in requests | share of requests | elsewhere |")
	if p.Reviews > 0 {
		fmt.Fprintf(b, " in requests, per review |")
	}
	fmt.Fprintf(b, "\n|---|--:|--:|--:|")
	if p.Reviews > 0 {
		fmt.Fprintf(b, "--:|")
	}
	fmt.Fprintf(b, "\n")
	for _, s := range p.Shares {
		fmt.Fprintf(b, "| %s | %s | %.0f%% | %s |", s.Kind, s.InRequests.Round(time.Millisecond), pct(s.InRequests, in), s.Elsewhere.Round(time.Millisecond))
		if p.Reviews > 0 {
			fmt.Fprintf(b, " %.0f µs |", float64(s.InRequests.Microseconds())/float64(p.Reviews))
		}
		fmt.Fprintf(b, "\n")
	}
	fmt.Fprintf(b, "| all | %s | 100%% | %s |", in.Round(time.Millisecond), (p.Total - in).Round(time.Millisecond))
	if p.Reviews > 0 {
		fmt.Fprintf(b, " %.0f µs |", float64(in.Microseconds())/float64(p.Reviews))
	}
	fmt.Fprintf(b, "\n")
}

func pct(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
