package main

import (
	"cmp"
	"context"
	"encoding/json"
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
	// The scrape part: scrapeChild marks the process run inside the part's network namespace.
	scrapeChild                                bool
	scrapeRounds, scrapeStress                 int
	scrapeStressRounds, scrapeMaxConn          int
	scrapePeriod, scrapeNormal, scrapeStressed time.Duration
	// The scale part.
	scaleDaemonSets, scaleConfigMaps, scaleSteps, scaleCreates int
	// profileDir keeps the CPU profiles (-profile-dir); empty: serve's go to the run's temporary
	// directory and the bench server is not profiled.
	profileDir string
	// parts are the parts to run (-parts), all by default.
	parts map[string]bool
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", filepath.Join(harness.RepoRoot(), "docs", "benchmarks.md"), "where to write the report")
	flag.StringVar(&o.benchtime, "benchtime", "1s", "go test -benchtime of the microbenchmarks")
	flag.IntVar(&o.creates, "creates", 300, "measured DaemonSet creates per end-to-end scenario (all rounds)")
	flag.IntVar(&o.rounds, "rounds", 3, "end-to-end rounds: the scenarios take turns this many times")
	flag.IntVar(&o.warmup, "warmup", 10, "unmeasured DaemonSet creates per scenario and round")
	flag.IntVar(&o.connections, "connections", 16, "keep-alive connections of the load generator")
	flag.IntVar(&o.loadRounds, "load-rounds", 5, "server load runs per handler and mode, taking turns between handlers")
	flag.Float64Var(&o.rate, "rate", 500, "offered AdmissionReviews per second of the fixed-rate runs")
	flag.DurationVar(&o.saturate, "saturate", 5*time.Second, "duration of each saturation run")
	flag.DurationVar(&o.open, "open", 10*time.Second, "duration of each fixed-rate run")
	flag.DurationVar(&o.time, "time", 14*time.Minute, "the most the whole run may take")
	flag.BoolVar(&o.scrapeChild, "scrape-child", false, "internal: run the scrape part (inside its network namespace) and print its figures as JSON")
	flag.StringVar(&o.profileDir, "profile-dir", "", "keep the CPU profiles here: serve's of part 4 (always taken, in 10 s pieces, summed in the report) and the bench server's of part 3 (only with this flag: its figures then include the profiler's cost)")
	flag.DurationVar(&quietWait, "quiet-wait", time.Minute, "the most each part waits for other processes to leave the CPU")
	parts := flag.String("parts", "micro,scrape,server,e2e,scale", "the parts to run, a comma list out of micro, scrape, server, e2e (with serve's memory), scale (needs e2e)")
	flag.IntVar(&o.scaleDaemonSets, "scale-daemonsets", 1000, "scale: proxy DaemonSets at the last step")
	flag.IntVar(&o.scaleConfigMaps, "scale-configmaps", 5000, "scale: ConfigMaps at the last step (the DaemonSets' own included)")
	flag.IntVar(&o.scaleSteps, "scale-steps", 2, "scale: steps to grow in")
	flag.IntVar(&o.scaleCreates, "scale-creates", 100, "scale: DaemonSet creates timed at each step")
	flag.DurationVar(&o.scrapePeriod, "scrape-period", 500*time.Millisecond, "normal load: each scraper's scrape interval (Prometheus: 15s)")
	flag.DurationVar(&o.scrapeNormal, "scrape-normal", 8*time.Second, "normal load: duration of each run")
	flag.IntVar(&o.scrapeRounds, "scrape-rounds", 5, "normal load: runs per path, the paths taking turns")
	flag.IntVar(&o.scrapeStress, "scrape-scrapers", 50, "stressed load: scrapers in flight on one target")
	flag.DurationVar(&o.scrapeStressed, "scrape-stressed", 4*time.Second, "stressed load: duration of each run")
	flag.IntVar(&o.scrapeStressRounds, "scrape-stressed-rounds", 2, "stressed load: runs per path and target")
	flag.IntVar(&o.scrapeMaxConn, "scrape-maxconn", 100, "the default-server maxconn measured beside the seed's 10")
	flag.Parse()
	o.parts = map[string]bool{}
	for _, p := range strings.Split(*parts, ",") {
		o.parts[strings.TrimSpace(p)] = true
	}
	if o.scrapeChild {
		os.Exit(runScrapeChild(o))
	}
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

	if o.parts["micro"] {
		step("1/6 core microbenchmarks (go test -bench)")
		measurePart(ctx, r, "part 1", func() {
			if err := runMicro(ctx, o, &r.Micro); err != nil {
				fail("microbenchmarks", err)
			}
		})
	}
	if o.parts["scrape"] {
		step("2/6 scrape path: /metrics of the components through haproxy and directly, in a network namespace of its own")
		measurePart(ctx, r, "part 2", func() {
			if err := runScrapePart(ctx, &r.Scrape); err != nil {
				fail("scrape path", err)
			}
		})
	}
	if !o.parts["server"] && !o.parts["e2e"] {
		return r
	}
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

	if o.parts["server"] {
		step("3/6 webhook server latency and throughput")
		measurePart(ctx, r, "part 3", func() {
			if err := runServerPart(ctx, o, bins, cp, reviews, dir, &r.Server); err != nil {
				fail("server latency and throughput", err)
			}
		})
	}
	if !o.parts["e2e"] {
		return r
	}
	step("4/6 and 5/6 metrics-proxy serve: admission end to end through kube-apiserver, resident memory")
	measurePart(ctx, r, "parts 4 and 5", func() {
		srv, err := startServe(ctx, bins, cp, dir)
		if err != nil {
			fail("metrics-proxy serve", err)
			return
		}
		defer srv.stop()
		if r.Memory.Idle, err = idleRSS(ctx, srv); err != nil {
			fail("idle memory", err)
		}
		stopProfile := profileServe(ctx, cmp.Or(o.profileDir, dir), srv)
		if err := runEndToEnd(ctx, o, cp, srv, &r.EndToEnd); err != nil {
			fail("end to end", err)
		}
		r.EndToEnd.Profile = stopProfile()
		if err := runMemoryLoad(ctx, o, bins, cp, srv, reviews, &r.Memory); err != nil {
			fail("memory under load", err)
		}
		if o.parts["scale"] {
			step("6/6 scale: serve, audit and admission as the cluster grows")
			if err := runScale(ctx, o, bins, cp, srv, &r.Scale); err != nil {
				fail("scale", err)
			}
		}
	})
	return r
}

// runScrapeChild is the process inside the scrape part's network namespace: the figures go to
// standard output as JSON, progress and errors to standard error.
func runScrapeChild(o options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 8*time.Minute)
	defer cancel()
	f, err := scrapeChild(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: scrape part: %v\n", err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(f); err != nil {
		fmt.Fprintf(os.Stderr, "bench: scrape part: %v\n", err)
		return 1
	}
	return 0
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
