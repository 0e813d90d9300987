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

	floor, inj, val := r.Server.Handler(HandlerFloor), r.Server.Handler(HandlerInject), r.Server.Handler(HandlerValidate)
	ok := floor != nil && floor.Open != nil && inj != nil && inj.Open != nil
	if ok {
		f, i := floor.Open.Latency.P99, inj.Open.Latency.P99
		add(fmt.Sprintf("injection p99 at %.0f/s vs the no-op floor's", r.Server.Rate), "≤ 2× the floor",
			true, fmt.Sprintf("%.2f ms vs %.2f ms (%.2f×)", Millis(i), Millis(f), ratio(i, f)), i <= 2*f)
	} else {
		add("injection p99 vs the no-op floor's", "≤ 2× the floor", false, "", false)
	}
	for _, h := range []*HandlerFigures{inj, val} {
		if h == nil || h.Saturation == nil {
			add("throughput at saturation", "≥ 2,000 AdmissionReviews/s", false, "", false)
			continue
		}
		add(h.Name+" throughput at saturation", fmt.Sprintf("≥ 2,000 AdmissionReviews/s on %d cores", r.Cores),
			true, fmt.Sprintf("%.0f/s", h.Saturation.PerSecond), h.Saturation.PerSecond >= 2000)
	}

	a, b, c := r.EndToEnd.Scenario(ScenarioNone), r.EndToEnd.Scenario(ScenarioWebhook), r.EndToEnd.Scenario(ScenarioPolicy)
	if a != nil && b != nil && a.Latency.Count > 0 && b.Latency.Count > 0 {
		d := b.Latency.P50 - a.Latency.P50
		add("end-to-end added latency (b)−(a) at p50", "≤ 3 ms", true, fmt.Sprintf("%+.3f ms (%.2f vs %.2f ms)",
			Millis(d), Millis(b.Latency.P50), Millis(a.Latency.P50)), d <= 3*time.Millisecond)
	} else {
		add("end-to-end added latency (b)−(a) at p50", "≤ 3 ms", false, "", false)
	}
	if c != nil && b != nil && c.Latency.Count > 0 && b.Latency.Count > 0 {
		d := b.Latency.P50 - c.Latency.P50
		add("webhook above the MutatingAdmissionPolicy (b)−(c) at p50", "≤ 2 ms", true, fmt.Sprintf("%+.3f ms (%.2f vs %.2f ms)",
			Millis(d), Millis(b.Latency.P50), Millis(c.Latency.P50)), d <= 2*time.Millisecond)
	} else {
		add("webhook above the MutatingAdmissionPolicy (b)−(c) at p50", "≤ 2 ms", false, "", false)
	}

	m := r.Memory
	add("resident memory of metrics-proxy serve, idle", "≤ 40 MiB", m.Idle > 0, mib(m.Idle), m.Idle <= 40*MiB)
	add("resident memory of metrics-proxy serve, under load (peak)", "≤ 80 MiB", m.Load > 0, mib(m.Load), m.Load <= 80*MiB)

	g, found := FindGoBench(r.Micro.Results, "BenchmarkValidateConfig1MiB")
	add("validation of a 1 MiB config", "≤ 50 ms", found, fmt.Sprintf("%.1f ms", Millis(g.PerOp())), g.PerOp() <= 50*time.Millisecond)
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

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/MiB) }
