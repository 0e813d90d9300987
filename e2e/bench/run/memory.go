package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/metrics-proxy/injector/e2e/bench"
)

// settle is how long the server is left alone before an idle reading.
const settle = 3 * time.Second

// idleRSS reads the resident memory of srv once it has been ready and idle for a moment.
func idleRSS(ctx context.Context, srv *server) (int64, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(settle):
	}
	return bench.RSS(srv.pid())
}

// runMemoryLoad puts the load of part 2 on `metrics-proxy serve` (injection and validation; the
// no-op path exists only on the bench server) and samples its resident memory meanwhile.
func runMemoryLoad(ctx context.Context, o options, bins programs, cp *controlPlane, srv *server, r reviews, out *bench.MemoryFigures) error {
	watch := bench.WatchRSS(srv.pid(), 100*time.Millisecond)
	var seen []string
	total := 0
	var loadErr error
	for _, mode := range []string{bench.ModeClosed, bench.ModeOpen} {
		for _, h := range handlerLoads(r) {
			if h.key == bench.HandlerFloor || loadErr != nil {
				continue
			}
			var sum bench.LoadResult
			for range o.loadRounds {
				res, err := runLoadgen(ctx, bins, cp, srv, h, mode, o)
				if err != nil {
					loadErr = err
					break
				}
				sum.Add(res)
			}
			total += sum.Completed
			seen = append(seen, fmt.Sprintf("%s %s: %.0f/s", h.key, mode, sum.PerSecond))
		}
	}
	peak, err := watch.Stop()
	if loadErr != nil {
		return loadErr
	}
	if err != nil {
		return err
	}
	out.Load = peak
	out.LoadDescription = fmt.Sprintf("part 2's runs of injection and validation, saturation (%d connections, %s) then "+
		"%.0f/s for %s each: %d AdmissionReviews in all (%s).", o.connections, o.saturate, o.rate, o.open, total,
		strings.Join(seen, ", "))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(settle):
	}
	out.After, err = bench.RSS(srv.pid())
	return err
}
