//go:build linux

package cluster

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
)

// childEnv makes the test binary a child cluster run (see TestTeardown) instead of the tests.
const childEnv = "METRICS_PROXY_CLUSTER_CHILD"

func TestMain(m *testing.M) {
	if bin := os.Getenv(childEnv); bin != "" {
		os.Exit(child(bin))
	}
	os.Exit(m.Run())
}

// child brings up a cluster of one node, says "up" on stdout and waits for SIGINT or SIGTERM,
// then tears the cluster down: the interrupted run of TestTeardown.
func child(bin string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, err := Up(ctx, Options{Bin: bin, Out: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster up:", err)
		return 1
	}
	fmt.Println("up")
	<-ctx.Done()
	if err := c.Down(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster down:", err)
		return 1
	}
	return 0
}

// upBudget bounds a whole test run with the cluster, binaries built.
const upBudget = 15 * time.Minute

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
