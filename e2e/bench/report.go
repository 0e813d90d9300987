package bench

import "time"

// Report is everything one `make bench` run measured; Markdown renders it.
type Report struct {
	// Command is what was run, Invocation the program and flags it ran; Started and Elapsed when
	// and how long.
	Command, Invocation string
	Started             time.Time
	Elapsed             time.Duration
	// Cores is the number of CPUs, CPU their model; GoVersion and KubernetesVersion the versions
	// of the Go toolchain and of the local kube-apiserver.
	Cores                 int
	CPU, GoVersion        string
	KubernetesVersion     string
	LoadBefore, LoadAfter string
	Micro                 MicroFigures
	Scrape                ScrapeFigures
	Server                ServerFigures
	EndToEnd              EndToEndFigures
	Memory                MemoryFigures
	Scale                 ScaleFigures
	// Contention says how busy other processes kept the machine during each part.
	Contention []Contention
	// Failures are the parts that could not be measured, with why; their figures are missing.
	Failures []string
}

// Contention is the CPU that processes other than the benchmark's used during one part.
type Contention struct {
	// Part names the part; Foreign is the share of the machine's CPU capacity others used (0 to 1).
	Part    string
	Foreign float64
	// Waited is how long the part waited for a quieter machine before it started.
	Waited time.Duration
}

// MicroFigures are the core microbenchmarks.
type MicroFigures struct {
	// Command is the go test command line.
	Command string
	Results []GoBench
}

// Handler keys of ServerFigures.Handlers: the no-op floor, injection and validation.
const (
	HandlerFloor    = "floor"
	HandlerInject   = "inject"
	HandlerValidate = "validate"
)

// ServerFigures are the webhook server's latency and throughput over HTTPS.
type ServerFigures struct {
	// Server says what served the requests.
	Server string
	// Connections is the number of keep-alive connections of the load generator.
	Connections int
	// Rate is the offered rate of the fixed-rate runs; Saturate and Open the measured durations,
	// each split into Rounds runs per handler, the handlers taking turns.
	Rate           float64
	Saturate, Open time.Duration
	Rounds         int
	// Handlers are the figures by handler key.
	Handlers map[string]*HandlerFigures
}

// HandlerFigures are the figures of one handler.
type HandlerFigures struct {
	// Name describes the handler; Path is its URL path.
	Name, Path string
	// Saturation is the closed-loop run, Open the fixed-rate one; nil when not measured.
	Saturation, Open *LoadResult
}

// Scenario keys of EndToEndFigures.Scenarios, in the order docs/benchmarks.md lists them.
const (
	ScenarioNone       = "a"
	ScenarioWebhook    = "b"
	ScenarioPolicy     = "c"
	ScenarioValidating = "b+v"
	ScenarioNative     = "c+v"
)

// EndToEndFigures are the DaemonSet create latencies through kube-apiserver.
type EndToEndFigures struct {
	// Rounds is how many times the scenarios took turns; Warmup the unmeasured creates per turn.
	Rounds, Warmup int
	// Scenarios are the measured scenarios, in the order they ran in each round.
	Scenarios []*Scenario
	// Equivalence compares what the webhook and the policy stored for the same stub.
	Equivalence string
	// Breakdown is where the time of each scenario's measured creates went, from the metrics of
	// kube-apiserver and serve.
	Breakdown []Breakdown
	// Profile is serve's CPU over the part, by kind of work; nil when not profiled.
	Profile *CPUProfile
}

// Scenario is one end-to-end scenario.
type Scenario struct {
	// Key is one of the Scenario constants; Name describes it.
	Key, Name string
	// Latency summarises the measured creates.
	Latency Summary
	// Errors counts failed creates.
	Errors int
	// Samples are the raw latencies, summarised by Latency.
	Samples []time.Duration
}

// Scenario returns the scenario with key, or nil.
func (e *EndToEndFigures) Scenario(key string) *Scenario {
	for _, s := range e.Scenarios {
		if s.Key == key {
			return s
		}
	}
	return nil
}

// MemoryFigures are the resident set sizes of `metrics-proxy serve`, in bytes (0: not measured).
type MemoryFigures struct {
	// Idle is read once the server is ready, before any request; Load is the peak during the
	// load; After is read when the load is over.
	Idle, Load, After int64
	// LoadDescription says what load ran while Load was sampled.
	LoadDescription string
}

// Handler returns the figures of the handler with key, or nil.
func (s *ServerFigures) Handler(key string) *HandlerFigures {
	if s.Handlers == nil {
		return nil
	}
	return s.Handlers[key]
}
