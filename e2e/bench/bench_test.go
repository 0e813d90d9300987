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
	r := &bench.Report{Cores: 2, Server: bench.ServerFigures{Rate: 500, Handlers: map[string]*bench.HandlerFigures{
		bench.HandlerFloor:  {Name: "floor", Open: open(time.Millisecond)},
		bench.HandlerInject: {Name: "inject", Open: open(3 * time.Millisecond), Saturation: &bench.LoadResult{PerSecond: 2500}},
	}}, Memory: bench.MemoryFigures{Idle: 30 * bench.MiB, Load: 90 * bench.MiB}}
	verdicts := map[string]string{}
	for _, tg := range bench.Targets(r) {
		verdicts[tg.Name] = tg.Verdict()
	}
	assert.Equal(t, "MISS", verdicts["injection p99 at 500/s vs the no-op floor's"])
	assert.Equal(t, "PASS", verdicts["inject throughput at saturation"])
	assert.Equal(t, "PASS", verdicts["resident memory of metrics-proxy serve, idle"])
	assert.Equal(t, "MISS", verdicts["resident memory of metrics-proxy serve, under load (peak)"])
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
