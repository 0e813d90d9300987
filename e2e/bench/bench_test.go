package bench_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/bench"
)

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := bench.Summarize(ds)
	assert.Equal(t, bench.Summary{Count: 100, P50: 50 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}, s)
	assert.Equal(t, bench.Summary{}, bench.Summarize(nil))
	assert.Equal(t, 7*time.Second, bench.Percentile([]time.Duration{7 * time.Second}, 99))
}

const goTestOutput = `goos: linux
pkg: github.com/metrics-proxy/injector/webhook/admission
cpu: AMD EPYC
BenchmarkDaemonSetInjector/env-1000-2   	     206	   5882298 ns/op	   6.83 MB/s	         6.000 patch-ops	   3526060 B/op	   59026 allocs/op
BenchmarkDaemonSetInjector/env-1000-2 some log line a benchmark printed
pkg: github.com/metrics-proxy/injector/webhook/policy
BenchmarkValidateConfig1MiB-2             	      12	  83430954 ns/op	  12.58 MB/s	19901496 B/op	  103302 allocs/op
PASS
`

func TestParseGoBench(t *testing.T) {
	got, err := bench.ParseGoBench(strings.NewReader(goTestOutput))
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "github.com/metrics-proxy/injector/webhook/admission", got[0].Package)
	assert.Equal(t, "BenchmarkDaemonSetInjector/env-1000", got[0].Name)
	assert.Equal(t, int64(206), got[0].Iterations)
	assert.Equal(t, 6.0, got[0].Metrics["patch-ops"])
	assert.Equal(t, 5882298*time.Nanosecond, got[0].PerOp())
	g, ok := bench.FindGoBench(got, "BenchmarkValidateConfig1MiB")
	require.True(t, ok)
	assert.Equal(t, "github.com/metrics-proxy/injector/webhook/policy", g.Package)
	assert.Equal(t, 103302.0, g.Metrics["allocs/op"])
}

func TestRSS(t *testing.T) {
	rss, err := bench.RSS(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, rss)
	w := bench.WatchRSS(os.Getpid(), time.Millisecond)
	peak, err := w.Stop()
	require.NoError(t, err)
	assert.Positive(t, peak)
	_, err = bench.RSS(-1)
	assert.Error(t, err)
}

// TestEmptyReportMissesEveryTarget: a part that did not run is a miss, never a pass or a gap.
func TestEmptyReportMissesEveryTarget(t *testing.T) {
	r := &bench.Report{Command: "make bench", Cores: 2, Failures: []string{"end to end: boom"}}
	targets := bench.Targets(r)
	require.NotEmpty(t, targets)
	for _, tg := range targets {
		assert.Equal(t, "MISS (not measured)", tg.Verdict(), tg.Name)
	}
	doc := bench.Markdown(r)
	assert.Contains(t, doc, "end to end: boom")
	assert.Contains(t, doc, "MISS (not measured)")
}

func TestTargetsJudgeFigures(t *testing.T) {
	open := func(p99 time.Duration) *bench.LoadResult {
		return &bench.LoadResult{Latency: bench.Summary{Count: 1, P99: p99}}
	}
	scenario := func(key string, p50, p99 time.Duration) *bench.Scenario {
		return &bench.Scenario{Key: key, Latency: bench.Summary{Count: 300, P50: p50, P99: p99}}
	}
	ms := time.Millisecond
	r := &bench.Report{Cores: 2, Server: bench.ServerFigures{Rate: 500, Handlers: map[string]*bench.HandlerFigures{
		bench.HandlerFloor:  {Name: "floor", Open: open(time.Millisecond)},
		bench.HandlerInject: {Name: "inject", Open: open(1250 * time.Microsecond), Saturation: &bench.LoadResult{PerSecond: 7999}},
	}}, Memory: bench.MemoryFigures{Idle: 30 * bench.MiB, Load: 90 * bench.MiB},
		EndToEnd: bench.EndToEndFigures{Scenarios: []*bench.Scenario{
			scenario(bench.ScenarioNone, 3*ms, 9*ms), scenario(bench.ScenarioWebhook, 4100*time.Microsecond, 10*ms),
			scenario(bench.ScenarioValidating, 5*ms, 12*ms), scenario(bench.ScenarioNative, 6*ms, 11*ms)}}}
	verdicts := map[string]string{}
	for _, tg := range bench.Targets(r) {
		verdicts[tg.Name] = tg.Verdict()
	}
	assert.Equal(t, "PASS", verdicts["handler: injection p99 at 500/s vs the no-op floor's"])
	assert.Equal(t, "MISS", verdicts["handler: DaemonSet injection throughput at saturation"])
	assert.Equal(t, "PASS", verdicts["admission, full path (mutating and validating webhooks) (b+v)−(a) at p50"])
	assert.Equal(t, "MISS", verdicts["admission, mutating webhook only (b)−(a) at p50"])
	assert.Equal(t, "MISS", verdicts["admission, full path p99 vs the native pair's (c+v)"])
	assert.Equal(t, "PASS", verdicts["resident memory of metrics-proxy serve, idle (earlier target)"])
	assert.Equal(t, "MISS", verdicts["resident memory of metrics-proxy serve, under load, peak (earlier target)"])
	assert.Equal(t, "MISS (not measured)", verdicts["scale: one audit pass"])
}

// TestScaleTargets: the cost per 1,000 objects, its linearity and the create latency at scale.
func TestScaleTargets(t *testing.T) {
	point := func(ds, cm int, rss int64, audit, p50, base time.Duration) bench.ScalePoint {
		return bench.ScalePoint{DaemonSets: ds, ConfigMaps: cm, RSS: rss, Audit: audit,
			Create: bench.Summary{Count: 100, P50: p50}, Baseline: bench.Summary{Count: 100, P50: base}}
	}
	r := &bench.Report{Scale: bench.ScaleFigures{Steps: 2, Points: []bench.ScalePoint{
		point(0, 0, 40*bench.MiB, time.Second, 10*time.Millisecond, 6*time.Millisecond),
		point(500, 2500, 43*bench.MiB, 2*time.Second, 10500*time.Microsecond, 6500*time.Microsecond),
		point(1000, 5000, 46*bench.MiB, 5*time.Second, 12*time.Millisecond, 7500*time.Microsecond),
	}}}
	verdicts, figures := map[string]string{}, map[string]string{}
	for _, tg := range bench.Targets(r) {
		verdicts[tg.Name], figures[tg.Name] = tg.Verdict(), tg.Figure
	}
	assert.Equal(t, "PASS", verdicts["scale: serve's resident memory"])
	assert.Contains(t, figures["scale: serve's resident memory"], "+1.00 MiB per 1,000 objects; second half / first half 1.00")
	assert.Equal(t, "MISS", verdicts["scale: one audit pass"], "3 s for the second half after 1 s for the first: not linear")
	assert.Equal(t, "MISS", verdicts["scale: full-path DaemonSet create p50 at that scale vs an empty cluster"])
	// Admission added 4 ms empty and 4.5 ms at scale: +0.5 ms, within 10% of the 10 ms create.
	const added = "scale: what admission adds to a create at p50 (full path − no webhook of ours, same cluster), at that scale vs an empty cluster"
	assert.Equal(t, "PASS", verdicts[added])
	assert.Contains(t, figures[added], "+4.50 vs +4.00 ms (+0.50 ms")
	r.Scale.Points[2].Baseline.P50 = 6500 * time.Microsecond // admission now adds 5.5 ms: +1.5 ms
	verdicts = map[string]string{}
	for _, tg := range bench.Targets(r) {
		verdicts[tg.Name] = tg.Verdict()
	}
	assert.Equal(t, "MISS", verdicts[added])
}

// TestScrapeTargets: the scrape path is judged against direct, per frontend kind and load.
func TestScrapeTargets(t *testing.T) {
	res := func(load, path, comp string, tls bool, p50, p99 time.Duration, errs int) *bench.ScrapeResult {
		return &bench.ScrapeResult{Load: load, Path: path, Component: comp, TLS: tls, Completed: 100, Errors: errs,
			Latency: bench.Summary{Count: 100, P50: p50, P99: p99}}
	}
	ms := time.Millisecond
	r := &bench.Report{Scrape: bench.ScrapeFigures{
		StressedLoad: bench.StressedLoad{Scrapers: 50}, CPULimitMilli: 100, Components: []string{"etcd", "kube-scheduler"}, MemoryLimit: 64 * bench.MiB,
		Results: []*bench.ScrapeResult{
			res(bench.LoadNormal, bench.PathDirect, "etcd", false, 5*ms, 10*ms, 0),
			res(bench.LoadNormal, "render", "etcd", false, 5500*time.Microsecond, 11*ms, 0),
			res(bench.LoadNormal, bench.PathDirect, "kube-scheduler", true, 5*ms, 10*ms, 0),
			res(bench.LoadNormal, "render", "kube-scheduler", true, 7500*time.Microsecond, 13*ms, 0),
			res(bench.LoadStressed, bench.PathDirect, "etcd", false, 100*ms, 200*ms, 0),
			res(bench.LoadStressed, "render", "etcd", false, 100*ms, 150*ms, 3),
		},
		HAProxy: []*bench.HAProxyUsage{{Variant: "render", Load: bench.LoadStressed, PeakRSS: 30 * bench.MiB, PeakCPU: 0.2, CPU: 0.05}},
	}}
	verdicts, figures := map[string]string{}, map[string]string{}
	for _, tg := range bench.Targets(r) {
		verdicts[tg.Name], figures[tg.Name] = tg.Verdict(), tg.Figure
	}
	assert.Equal(t, "PASS", verdicts["scrape, normal load: added p50 over direct, HTTP frontends"])
	assert.Equal(t, "render etcd +0.50 ms", figures["scrape, normal load: added p50 over direct, HTTP frontends"])
	assert.Equal(t, "MISS", verdicts["scrape, normal load: added p50 over direct, TLS frontends (terminated and re-encrypted)"])
	assert.Equal(t, "MISS", verdicts["scrape, normal load: p99 through the proxy vs direct"])
	assert.Equal(t, "PASS", verdicts["scrape, stressed (50 scrapers in flight): p99 through the proxy vs direct"])
	assert.Equal(t, "MISS", verdicts["scrape, stressed (50 scrapers in flight): errors through the proxy"])
	assert.Equal(t, "PASS", verdicts["haproxy resident memory, peak"])
	assert.Equal(t, "PASS", verdicts["haproxy within the injected memory limit (no OOM kill)"])
	assert.Equal(t, "MISS", verdicts["haproxy within the injected CPU limit at the stressed load (no throttling: peak CPU in a 100 ms CFS period)"])
	assert.Contains(t, bench.Markdown(r), "| etcd | render | HTTP | 5.50 ms | 11.00 ms |")
}

func TestParseSamples(t *testing.T) {
	text := `# HELP x y
apiserver_admission_webhook_admission_duration_seconds_sum{name="a.b",operation="CREATE",rejected="false",type="admit"} 0.25
apiserver_admission_webhook_admission_duration_seconds_count{name="a.b",operation="CREATE",rejected="false",type="admit"} 10
apiserver_admission_webhook_admission_duration_seconds_count{name="c\"d",operation="UPDATE"} 3
other_metric 1
`
	ss, err := bench.ParseSamples(strings.NewReader(text), "apiserver_admission_")
	require.NoError(t, err)
	require.Len(t, ss, 3)
	assert.Equal(t, `c"d`, ss[2].Labels["name"])
	assert.InDelta(t, 13, bench.SumSamples(ss, "apiserver_admission_webhook_admission_duration_seconds_count", nil), 1e-9)
	assert.InDelta(t, 10, bench.SumSamples(ss, "apiserver_admission_webhook_admission_duration_seconds_count",
		map[string]string{"operation": "CREATE"}), 1e-9)
	assert.Equal(t, []string{"a.b", `c"d`}, bench.WebhookNames(ss, "apiserver_admission_webhook_admission_duration_seconds_count", "name"))
}

func TestLoadResultAdd(t *testing.T) {
	var r bench.LoadResult
	r.Add(&bench.LoadResult{Mode: bench.ModeOpen, Rate: 500, Elapsed: time.Second, Completed: 2, Errors: 1, FirstError: "first",
		Samples: []time.Duration{3 * time.Millisecond, time.Millisecond}})
	r.Add(&bench.LoadResult{Mode: bench.ModeOpen, Rate: 500, Elapsed: time.Second, Completed: 2, FirstError: "second",
		Samples: []time.Duration{2 * time.Millisecond, 4 * time.Millisecond}})
	assert.Equal(t, bench.ModeOpen, r.Mode)
	assert.Equal(t, 4, r.Completed)
	assert.Equal(t, 1, r.Errors)
	assert.Equal(t, "first", r.FirstError)
	assert.InDelta(t, 2.0, r.PerSecond, 1e-9)
	assert.Equal(t, bench.Summary{Count: 4, P50: 2 * time.Millisecond, P99: 4 * time.Millisecond, Max: 4 * time.Millisecond}, r.Latency)
}

func TestCPUSnapshot(t *testing.T) {
	from, err := bench.TakeCPUSnapshot(os.Getpid())
	require.NoError(t, err)
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); { // burn some CPU of our own
	}
	to, err := bench.TakeCPUSnapshot(os.Getpid())
	require.NoError(t, err)
	assert.Greater(t, to.Total, from.Total)
	assert.GreaterOrEqual(t, to.Tree, from.Tree)
	share := bench.ForeignShare(from, to)
	assert.GreaterOrEqual(t, share, 0.0)
	assert.LessOrEqual(t, share, 1.0)
}

// TestHostileFigures: the hostile-input benchmark's cases are reported beside the compliant
// baseline, and the worst case is judged against the targets.
func TestHostileFigures(t *testing.T) {
	out := `pkg: github.com/metrics-proxy/injector/webhook/policy
BenchmarkValidateHostile1MiB/compliant-2         	       3	  25205045 ns/op	  41.63 MB/s	 6648677 B/op	  103080 allocs/op
BenchmarkValidateHostile1MiB/unknown-keywords-2  	       3	  45967174 ns/op	  22.81 MB/s	 1067506 B/op	     120 allocs/op
BenchmarkValidateHostile1MiB/sections-2          	       3	 120000000 ns/op	  29.13 MB/s	40000000 B/op	      95 allocs/op
`
	results, err := bench.ParseGoBench(strings.NewReader(out))
	require.NoError(t, err)
	require.Len(t, bench.Hostile(results), 3)
	r := &bench.Report{Cores: 2, Micro: bench.MicroFigures{Results: results}}
	verdicts := map[string]string{}
	figures := map[string]string{}
	for _, tg := range bench.Targets(r) {
		verdicts[tg.Name], figures[tg.Name] = tg.Verdict(), tg.Figure
	}
	assert.Equal(t, "MISS", verdicts["validation of the worst hostile 1 MiB config, time"])
	assert.Contains(t, figures["validation of the worst hostile 1 MiB config, time"], "120.0 ms (BenchmarkValidateHostile1MiB/sections)")
	assert.Equal(t, "MISS", verdicts["validation of the worst hostile 1 MiB config, memory allocated"])
	doc := bench.Markdown(r)
	assert.Contains(t, doc, "| unknown-keywords | 46.0 ms | 1.02 | 1.82 |")
}
