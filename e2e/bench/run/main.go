package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/metrics-proxy/injector/e2e/bench"
	"github.com/metrics-proxy/injector/e2e/harness"
)

// options are the flags of run.
type options struct {
	out, benchtime       string
	creates, rounds      int
	warmup, connections  int
	loadRounds           int
	rate                 float64
	saturate, open, time time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", filepath.Join(harness.RepoRoot(), "docs", "benchmarks.md"), "where to write the report")
	flag.StringVar(&o.benchtime, "benchtime", "1s", "go test -benchtime of the microbenchmarks")
	flag.IntVar(&o.creates, "creates", 600, "measured DaemonSet creates per end-to-end scenario (all rounds)")
	flag.IntVar(&o.rounds, "rounds", 6, "end-to-end rounds: the scenarios take turns this many times")
	flag.IntVar(&o.warmup, "warmup", 10, "unmeasured DaemonSet creates per scenario and round")
	flag.IntVar(&o.connections, "connections", 16, "keep-alive connections of the load generator")
	flag.IntVar(&o.loadRounds, "load-rounds", 5, "server load runs per handler and mode, taking turns between handlers")
	flag.Float64Var(&o.rate, "rate", 500, "offered AdmissionReviews per second of the fixed-rate runs")
	flag.DurationVar(&o.saturate, "saturate", 5*time.Second, "duration of each saturation run")
	flag.DurationVar(&o.open, "open", 10*time.Second, "duration of each fixed-rate run")
	flag.DurationVar(&o.time, "time", 9*time.Minute, "the most the whole run may take")
	flag.Parse()
	if o.creates < 300 || o.rounds < 1 || o.creates%o.rounds != 0 || o.loadRounds < 1 {
		fmt.Fprintln(os.Stderr, "bench: want -creates >= 300, a multiple of -rounds, and -load-rounds >= 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.time)
	defer cancel()
	r := run(ctx, o)
	doc := bench.Markdown(r)
	fmt.Print("\n" + doc)
	if err := os.WriteFile(o.out, []byte(doc), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "bench: write report: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("\nbench: wrote %s\n", o.out)
	if len(r.Failures) > 0 {
		os.Exit(1)
	}
}

// run runs the four parts and returns what they measured; failures are recorded in the report.
func run(ctx context.Context, o options) *bench.Report {
	invocation := strings.Join(append([]string{"go run ./e2e/bench/run"}, os.Args[1:]...), " ")
	command := invocation
	if os.Getenv("MAKELEVEL") != "" { // run by make
		command = "make bench"
	}
	r := &bench.Report{Command: command, Invocation: invocation, Started: time.Now(), Cores: runtime.NumCPU(), CPU: cpuModel(),
		GoVersion: runtime.Version(), KubernetesVersion: "not started", LoadBefore: loadAverage()}
	defer func() {
		r.Elapsed = time.Since(r.Started)
		r.LoadAfter = loadAverage()
	}()
	fail := func(part string, err error) {
		r.Failures = append(r.Failures, fmt.Sprintf("%s: %v", part, err))
		fmt.Fprintf(os.Stderr, "bench: %s: %v\n", part, err)
	}

	step("1/4 core microbenchmarks (go test -bench)")
	measurePart(ctx, r, "part 1", func() {
		if err := runMicro(ctx, o, &r.Micro); err != nil {
			fail("microbenchmarks", err)
		}
	})
	dir, err := os.MkdirTemp("", "metrics-proxy-bench-")
	if err != nil {
		fail("setup", err)
		return r
	}
	defer os.RemoveAll(dir)
	step("building metrics-proxy, the bench server and the load generator")
	bins, err := buildPrograms(ctx, dir)
	if err != nil {
		fail("build", err)
		return r
	}
	step("starting the local control plane (kube-apiserver, etcd)")
	cp, err := startControlPlane(ctx)
	if err != nil {
		fail("control plane", err)
		return r
	}
	defer cp.stop()
	r.KubernetesVersion = cp.version
	reviews, err := writeReviews(ctx, cp, dir)
	if err != nil {
		fail("setup", err)
		return r
	}

	step("2/4 webhook server latency and throughput")
	measurePart(ctx, r, "part 2", func() {
		if err := runServerPart(ctx, o, bins, cp, reviews, dir, &r.Server); err != nil {
			fail("server latency and throughput", err)
		}
	})
	step("3/4 and 4/4 metrics-proxy serve: end to end through kube-apiserver, resident memory")
	measurePart(ctx, r, "parts 3 and 4", func() {
		srv, err := startServe(ctx, bins, cp, dir)
		if err != nil {
			fail("metrics-proxy serve", err)
			return
		}
		defer srv.stop()
		if r.Memory.Idle, err = idleRSS(ctx, srv); err != nil {
			fail("idle memory", err)
		}
		if err := runEndToEnd(ctx, o, cp, srv, &r.EndToEnd); err != nil {
			fail("end to end", err)
		}
		if err := runMemoryLoad(ctx, o, bins, cp, srv, reviews, &r.Memory); err != nil {
			fail("memory under load", err)
		}
	})
	return r
}

// step prints a progress line, so that a run of minutes is never silent.
func step(what string) {
	fmt.Printf("bench: %s  [%s]\n", what, time.Now().Format("15:04:05"))
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute figures: how busy the machine was.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
