package certs_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// load sends stub DaemonSets through the webhooks (server-side dry-run) from two workers until
// stopped, for at most a minute, and counts what failed.
type load struct {
	sent, failed atomic.Int64
	firstErr     atomic.Pointer[string]
	stop         chan struct{}
	wg           sync.WaitGroup
}

// startLoad starts the workers on namespace ns.
func startLoad(ns string) *load {
	l := &load{stop: make(chan struct{})}
	for range 2 {
		l.wg.Go(func() {
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
				select {
				case <-l.stop:
					return
				default:
				}
				l.sent.Add(1)
				if err := dryRunStub(ns); err != nil {
					l.failed.Add(1)
					msg := err.Error()
					l.firstErr.CompareAndSwap(nil, &msg)
				}
			}
		})
	}
	return l
}

// finish stops the workers and asserts that requests flowed and none failed.
func (l *load) finish(t *testing.T) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	assert.Positive(t, l.sent.Load())
	assert.Zero(t, l.failed.Load(), "requests failed during the rotation; first: %v", l.firstErr.Load())
	t.Logf("%d admission requests during the rotation, %d failed", l.sent.Load(), l.failed.Load())
}
