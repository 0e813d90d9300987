package bench

import "time"

// Scrape loads and paths of ScrapeFigures.
const (
	// LoadNormal is Prometheus's everyday load: a few scrapers, each scraping every target on a
	// period; LoadStressed many scrapers at once, each sending its next scrape when the last ends.
	LoadNormal   = "normal"
	LoadStressed = "stressed"
	// PathDirect is the floor: the component's own 127.0.0.1 port.
	PathDirect = "direct"
)

// ScrapeFigures are the figures of the scrape path: GETs of /metrics through the real haproxy
// against the same GETs sent directly to the components.
type ScrapeFigures struct {
	// Setup describes the components, the proxy and the client.
	Setup string `json:"setup"`
	// Normal and Stressed describe the two loads.
	Normal   string `json:"normal"`
	Stressed string `json:"stressed"`
	// NormalLoad and StressedLoad are their parameters.
	NormalLoad   NormalLoad   `json:"normalLoad"`
	StressedLoad StressedLoad `json:"stressedLoad"`
	// Variants are the proxy configurations measured, the first the one render writes.
	Variants []ScrapeVariant `json:"variants"`
	// Components are the components scraped; Skipped the components not scraped, with why.
	Components []string `json:"components"`
	Skipped    []string `json:"skipped,omitempty"`
	// Results are the figures per load, path and component.
	Results []*ScrapeResult `json:"results"`
	// HAProxy is each proxy process's usage per load.
	HAProxy []*HAProxyUsage `json:"haproxy"`
	// CPULimitMilli and MemoryLimit are the limits injection gives the haproxy container;
	// CPURequestMilli and MemoryRequest its requests.
	CPULimitMilli   int64 `json:"cpuLimitMilli"`
	CPURequestMilli int64 `json:"cpuRequestMilli"`
	MemoryLimit     int64 `json:"memoryLimit"`
	MemoryRequest   int64 `json:"memoryRequest"`
}

// NormalLoad is the periodic load.
type NormalLoad struct {
	// Scrapers per target, each scraping every Period, for Duration per run; Rounds runs per
	// path, the paths taking turns.
	Scrapers int           `json:"scrapers"`
	Period   time.Duration `json:"period"`
	Duration time.Duration `json:"duration"`
	Rounds   int           `json:"rounds"`
}

// StressedLoad is the closed-loop load, one target at a time.
type StressedLoad struct {
	// Scrapers in flight on one target for Duration per run; Rounds runs per path and target.
	Scrapers int           `json:"scrapers"`
	Duration time.Duration `json:"duration"`
	Rounds   int           `json:"rounds"`
}

// ScrapeVariant is one proxy configuration.
type ScrapeVariant struct {
	// Name keys the results; Description says how it differs from render's output.
	Name        string `json:"name"`
	Description string `json:"description"`
	// TLS lists the components whose frontend terminates TLS; MaxConn is default-server maxconn.
	TLS     []string `json:"tls"`
	MaxConn int      `json:"maxconn"`
	// Loads are the loads this variant was measured under.
	Loads []string `json:"loads"`
}

// ScrapeResult is one load, path and component.
type ScrapeResult struct {
	Load      string `json:"load"`
	Path      string `json:"path"`
	Component string `json:"component"`
	// TLS is true when the client spoke TLS (to the frontend, or to the component directly).
	TLS bool `json:"tls"`
	// Completed counts 200 answers with a full body; Errors the rest.
	Completed  int    `json:"completed"`
	Errors     int    `json:"errors"`
	FirstError string `json:"firstError,omitempty"`
	// Bytes is the mean response body on the wire (gzip, as Prometheus asks for it).
	Bytes int64 `json:"bytes"`
	// Latency is from sending the request to the last byte of the body.
	Latency Summary `json:"latency"`
	// PerSecond is the completed scrapes per second of the measured time.
	PerSecond float64 `json:"perSecond"`
}

// HAProxyUsage is one proxy process under one load.
type HAProxyUsage struct {
	Variant string `json:"variant"`
	Load    string `json:"load"`
	// PeakRSS is the highest VmRSS sampled (every 100 ms), in bytes; IdleRSS before any load.
	PeakRSS int64 `json:"peakRSS"`
	IdleRSS int64 `json:"idleRSS"`
	// CPU is the mean CPU used while the load ran through this proxy, in cores; PeakCPU the
	// most used in any 100 ms window (the CFS period a CPU limit is enforced over).
	CPU     float64 `json:"cpu"`
	PeakCPU float64 `json:"peakCPU"`
}

// Result returns the result of load, path and component, or nil.
func (s *ScrapeFigures) Result(load, path, component string) *ScrapeResult {
	for _, r := range s.Results {
		if r.Load == load && r.Path == path && r.Component == component {
			return r
		}
	}
	return nil
}

// Usage returns the haproxy usage of variant under load, or nil.
func (s *ScrapeFigures) Usage(variant, load string) *HAProxyUsage {
	for _, u := range s.HAProxy {
		if u.Variant == variant && u.Load == load {
			return u
		}
	}
	return nil
}
