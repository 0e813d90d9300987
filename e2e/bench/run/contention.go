package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/metrics-proxy/injector/e2e/bench"
)

// Quiet-machine gate: before a part starts, wait (at most quietWait) until processes other than
// the benchmark use less than quietShare of the machine's CPU over a quietWindow.
const (
	quietShare  = 0.2
	quietWindow = 2 * time.Second
)

// quietWait is -quiet-wait: how long a part waits at most for a quieter machine.
var quietWait = time.Minute

// measurePart waits for a quiet machine, runs the part and records how much CPU other processes
// used meanwhile.
func measurePart(ctx context.Context, r *bench.Report, name string, part func()) {
	waited := waitQuiet(ctx, name)
	from, err := bench.TakeCPUSnapshot(os.Getpid())
	part()
	if err != nil {
		return
	}
	to, err := bench.TakeCPUSnapshot(os.Getpid())
	if err != nil {
		return
	}
	r.Contention = append(r.Contention, bench.Contention{Part: name, Foreign: bench.ForeignShare(from, to), Waited: waited})
}

// waitQuiet returns once other processes use less than quietShare of the CPU, or after quietWait,
// and how long it waited (0 when the machine was quiet at once).
func waitQuiet(ctx context.Context, name string) time.Duration {
	start := time.Now()
	for time.Since(start) < quietWait {
		window := time.Now()
		from, err := bench.TakeCPUSnapshot(os.Getpid())
		if err != nil {
			return 0
		}
		select {
		case <-ctx.Done():
			return time.Since(start)
		case <-time.After(quietWindow):
		}
		to, err := bench.TakeCPUSnapshot(os.Getpid())
		if err != nil {
			return 0
		}
		share := bench.ForeignShare(from, to)
		if share < quietShare {
			return window.Sub(start)
		}
		fmt.Printf("bench: other processes use %.0f%% of the CPU; waiting for a quieter machine before %s\n", 100*share, name)
	}
	return time.Since(start)
}
