package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/metrics-proxy/injector/e2e/bench"
	"github.com/metrics-proxy/injector/webhook/admission"
)

// handlerLoad is one handler of the server part: where to send what, and what to expect.
type handlerLoad struct {
	key, name, path, body string
	patched               bool
}

// handlerLoads are the handlers of part 2: (a) the floor, (b) injection, (c) validation.
func handlerLoads(r reviews) []handlerLoad {
	return []handlerLoad{
		{bench.HandlerFloor, "(a) no-op handler, the floor", bench.NoopPath, r.daemonSet, false},
		{bench.HandlerInject, "(b) DaemonSet injection", admission.MutateDaemonSetPath, r.daemonSet, true},
		{bench.HandlerValidate, "(c) ConfigMap validation", admission.ValidateConfigMapPath, r.configMap, false},
	}
}

// runServerPart loads the bench server: saturation of each handler, then the fixed rate of each,
// each split into o.loadRounds runs that take turns.
func runServerPart(ctx context.Context, o options, bins programs, cp *controlPlane, r reviews, dir string, out *bench.ServerFigures) error {
	out.Server = "Server: `e2e/bench/server`, its own process: `server.New` exactly as `metrics-proxy serve` " +
		"builds it (the real handlers, registered by `admission.Register`; JSON logs at the default level, to a file; " +
		"connected to the local kube-apiserver), plus the no-op handler at `" + bench.NoopPath + "` registered on the same " +
		"webhook server by the benchmark only. The injection review is a CREATE of the DaemonSet stub as kube-apiserver sends it to a webhook, defaulted and " +
		"with its managedFields, encoded as kube-apiserver encodes it (from its answer to a server dry run; " + size(r.daemonSet) +
		"; the no-op handler gets the same); the validation review a CREATE of the seed's proxy ConfigMap (" + size(r.configMap) +
		", its `haproxy.cfg` with 4 frontends and backends), under the default policy."
	out.Connections, out.Rate, out.Saturate, out.Open, out.Rounds = o.connections, o.rate, o.saturate, o.open, o.loadRounds
	out.Handlers = map[string]*bench.HandlerFigures{}
	srv, err := startBenchServer(ctx, bins, cp, dir, profilePath(o.profileDir, "bench-server.pprof"))
	if err != nil {
		return err
	}
	defer srv.stop()
	loads := handlerLoads(r)
	for _, h := range loads {
		if err := checkAnswer(ctx, cp.caData, srv.url(h.path), h.body, h.patched); err != nil {
			return err
		}
		out.Handlers[h.key] = &bench.HandlerFigures{Name: h.name, Path: h.path,
			Saturation: &bench.LoadResult{}, Open: &bench.LoadResult{}}
	}
	for _, mode := range []string{bench.ModeClosed, bench.ModeOpen} {
		// The handlers take turns, so that whatever else the machine does hits each alike.
		for range o.loadRounds {
			for _, h := range loads {
				res, err := runLoadgen(ctx, bins, cp, srv, h, mode, o)
				if err != nil {
					return err
				}
				if mode == bench.ModeClosed {
					out.Handlers[h.key].Saturation.Add(res)
				} else {
					out.Handlers[h.key].Open.Add(res)
				}
			}
		}
		for _, h := range loads {
			res := out.Handlers[h.key].Saturation
			if mode == bench.ModeOpen {
				res = out.Handlers[h.key].Open
			}
			fmt.Printf("bench:   %-32s %-6s %8.0f reviews/s  p50 %6.2f ms  p99 %6.2f ms  errors %d\n", h.name, mode,
				res.PerSecond, bench.Millis(res.Latency.P50), bench.Millis(res.Latency.P99), res.Errors)
		}
	}
	return nil
}

// size is the size of a file, for the report.
func size(file string) string {
	fi, err := os.Stat(file)
	if err != nil {
		return "size unknown"
	}
	return fmt.Sprintf("%d bytes", fi.Size())
}

// runLoadgen runs the load generator once against srv, for one round's share of the mode's
// duration, and returns its result.
func runLoadgen(ctx context.Context, bins programs, cp *controlPlane, srv *server, h handlerLoad, mode string, o options) (*bench.LoadResult, error) {
	duration := o.saturate / time.Duration(o.loadRounds)
	if mode == bench.ModeOpen {
		duration = o.open / time.Duration(o.loadRounds)
	}
	expect := `"allowed":true`
	if h.patched {
		expect = `"patch":`
	}
	args := []string{"-url", srv.url(h.path), "-ca", cp.caFile, "-body", h.body, "-mode", mode, "-expect", expect,
		"-connections", strconv.Itoa(o.connections), "-rate", strconv.FormatFloat(o.rate, 'f', -1, 64),
		"-duration", duration.String(), "-warmup", "500ms"}
	ctx, cancel := context.WithTimeout(ctx, duration+time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bins.loadgen, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("loadgen %s %s: %w: %s", mode, h.path, err, stderr.String())
	}
	var res bench.LoadResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("loadgen %s %s: result: %w", mode, h.path, err)
	}
	if res.Completed == 0 {
		return nil, fmt.Errorf("loadgen %s %s: no request completed: %s", mode, h.path, res.FirstError)
	}
	return &res, nil
}
