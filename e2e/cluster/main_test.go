package cluster

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
)

// upBudget bounds a whole test run with the cluster, binaries built.
const upBudget = 8 * time.Minute

// testContext is canceled on SIGINT or SIGTERM (the cluster is then torn down by the test's
// cleanup) and after upBudget.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, upBudget)
	t.Cleanup(func() { cancel(); stop() })
	return ctx
}

// bin returns the directory of the binaries, skipping (failing in CI) what this machine lacks.
func bin(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(harness.RepoRoot(), "bin")
	if why := Requirements(dir); why != "" {
		testtool.Missing(t, why)
	}
	return dir
}

// up brings up a control-plane node and workers, torn down when the test ends.
func up(ctx context.Context, t *testing.T, workers int) *Cluster {
	t.Helper()
	c, err := Up(ctx, Options{Workers: workers, Bin: bin(t), Out: testWriter{t}})
	if err != nil {
		t.Fatalf("cluster up: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the end of every process's output:\n%s", c.Logs())
		}
		if err := c.Down(); err != nil {
			t.Errorf("cluster down: %v", err)
		}
	})
	return c
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}
