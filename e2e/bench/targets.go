package bench

import (
	"fmt"
	"strings"
	"time"
)

// Target is one performance target, beside the figure it judges.
type Target struct {
	// Name says what is judged; Limit the target.
	Name, Limit string
	// Figure is the measured figure, or why there is none.
	Figure string
	// Measured is false when the figure is missing; Pass whether it meets the target.
	Measured, Pass bool
}

// Verdict is PASS, MISS, or MISS (not measured).
func (t Target) Verdict() string {
	switch {
	case !t.Measured:
		return "MISS (not measured)"
	case t.Pass:
		return "PASS"
	default:
		return "MISS"
	}
}

// Targets judges the report's figures against the performance targets.
func Targets(r *Report) []Target {
	var out []Target
	add := func(name, limit string, measured bool, figure string, pass bool) {
		if !measured {
			figure = "not measured"
		}
		out = append(out, Target{Name: name, Limit: limit, Figure: figure, Measured: measured, Pass: measured && pass})
	}

	scrapeTargets(&r.Scrape, add)

	a, b := r.EndToEnd.Scenario(ScenarioNone), r.EndToEnd.Scenario(ScenarioWebhook)
	bv, cv := r.EndToEnd.Scenario(ScenarioValidating), r.EndToEnd.Scenario(ScenarioNative)
	has := func(ss ...*Scenario) bool {
		for _, s := range ss {
			if s == nil || s.Latency.Count == 0 {
				return false
			}
		}
		return true
	}
	added := func(name, limit string, s *Scenario, max time.Duration) {
		if !has(a, s) {
			add(name, limit, false, "", false)
			return
		}
		d := s.Latency.P50 - a.Latency.P50
		add(name, limit, true, fmt.Sprintf("%+.3f ms (%.2f vs %.2f ms)", Millis(d), Millis(s.Latency.P50), Millis(a.Latency.P50)), d <= max)
	}
	added("admission, full path (mutating and validating webhooks) (b+v)−(a) at p50", "≤ +2.0 ms", bv, 2*time.Millisecond)
	added("admission, mutating webhook only (b)−(a) at p50", "≤ +1.0 ms", b, time.Millisecond)
	if has(bv, cv) {
		add("admission, full path p99 vs the native pair's (c+v)", "≤ the native pair's", true,
			fmt.Sprintf("%.2f vs %.2f ms (%.2f×)", Millis(bv.Latency.P99), Millis(cv.Latency.P99), ratio(bv.Latency.P99, cv.Latency.P99)),
			bv.Latency.P99 <= cv.Latency.P99)
	} else {
		add("admission, full path p99 vs the native pair's (c+v)", "≤ the native pair's", false, "", false)
	}

	floor, inj, val := r.Server.Handler(HandlerFloor), r.Server.Handler(HandlerInject), r.Server.Handler(HandlerValidate)
	if floor != nil && floor.Open != nil && inj != nil && inj.Open != nil {
		f, i := floor.Open.Latency.P99, inj.Open.Latency.P99
		add(fmt.Sprintf("handler: injection p99 at %.0f/s vs the no-op floor's", r.Server.Rate), "≤ 1.3× the floor",
			true, fmt.Sprintf("%.2f ms vs %.2f ms (%.2f×)", Millis(i), Millis(f), ratio(i, f)), 10*i <= 13*f)
	} else {
		add("handler: injection p99 vs the no-op floor's", "≤ 1.3× the floor", false, "", false)
	}
	if inj != nil && inj.Saturation != nil {
		add("handler: DaemonSet injection throughput at saturation", fmt.Sprintf("≥ 8,000 AdmissionReviews/s on %d cores", r.Cores),
			true, fmt.Sprintf("%.0f/s (no-op floor %.0f/s)", inj.Saturation.PerSecond, floorRate(floor)), inj.Saturation.PerSecond >= 8000)
	} else {
		add("handler: DaemonSet injection throughput at saturation", "≥ 8,000 AdmissionReviews/s", false, "", false)
	}
	if val != nil && val.Saturation != nil {
		add("handler: ConfigMap validation throughput at saturation (earlier target)", fmt.Sprintf("≥ 2,000 AdmissionReviews/s on %d cores", r.Cores),
			true, fmt.Sprintf("%.0f/s", val.Saturation.PerSecond), val.Saturation.PerSecond >= 2000)
	} else {
		add("handler: ConfigMap validation throughput at saturation (earlier target)", "≥ 2,000 AdmissionReviews/s", false, "", false)
	}
	g, found := FindGoBench(r.Micro.Results, "BenchmarkDaemonSetInjector/stub")
	add("handler: allocations per injection review of a stub", "< 1,051 (issue 15's starting point)", found,
		fmt.Sprintf("%.0f allocs, %.0f B", g.Metrics["allocs/op"], g.Metrics["B/op"]), g.Metrics["allocs/op"] < 1051)

	scaleTargets(&r.Scale, add)

	m := r.Memory
	add("resident memory of metrics-proxy serve, idle (earlier target)", "≤ 40 MiB", m.Idle > 0, mib(m.Idle), m.Idle <= 40*MiB)
	add("resident memory of metrics-proxy serve, under load, peak (earlier target)", "≤ 80 MiB", m.Load > 0, mib(m.Load), m.Load <= 80*MiB)

	g, found = FindGoBench(r.Micro.Results, "BenchmarkValidateConfig1MiB")
	add("validation of a 1 MiB config (earlier target)", "≤ 50 ms", found, fmt.Sprintf("%.1f ms", Millis(g.PerOp())), g.PerOp() <= 50*time.Millisecond)
	var worstTime, worstMem GoBench
	for _, h := range Hostile(r.Micro.Results) {
		if strings.HasSuffix(h.Name, "/compliant") {
			continue
		}
		if h.PerOp() > worstTime.PerOp() {
			worstTime = h
		}
		if h.Metrics["B/op"] > worstMem.Metrics["B/op"] {
			worstMem = h
		}
	}
	found = worstTime.Name != ""
	add("validation of the worst hostile 1 MiB config, time", "≤ 100 ms", found, fmt.Sprintf("%.1f ms (%s)", Millis(worstTime.PerOp()), worstTime.Name),
		worstTime.PerOp() <= 100*time.Millisecond)
	add("validation of the worst hostile 1 MiB config, memory allocated", "≤ 32 MiB", found, fmt.Sprintf("%.2f MiB (%s)", worstMem.Metrics["B/op"]/MiB, worstMem.Name),
		worstMem.Metrics["B/op"] <= 32*MiB)
	return out
}

func floorRate(h *HandlerFigures) float64 {
	if h == nil || h.Saturation == nil {
		return 0
	}
	return h.Saturation.PerSecond
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/MiB) }
