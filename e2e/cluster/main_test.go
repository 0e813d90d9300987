//go:build linux

package cluster

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
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
	code := m.Run()
	if err := downShared(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster down:", err)
		code = 1
	}
	os.Exit(code)
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

// sharedWorkers is the number of workers of the package's cluster.
const sharedWorkers = 1

// The package's one cluster: brought up by the first test that needs it, torn down by TestMain
// after the last (or by downShared, for a test that needs the machine's cluster lock itself).
var shared struct {
	mu  sync.Mutex
	c   *Cluster
	err error // a failed Up is not retried by every test
}

// up returns the package's cluster (a control-plane node and sharedWorkers workers), bringing
// it up on first use. A failed test logs the end of every process's output.
func up(ctx context.Context, t *testing.T) *Cluster {
	t.Helper()
	dir := bin(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.c == nil && shared.err == nil {
		start := time.Now()
		// The cluster outlives this test: its progress goes to stderr, not to t.Log.
		shared.c, shared.err = Up(ctx, Options{Workers: sharedWorkers, Bin: dir, Out: os.Stderr})
		if shared.err == nil {
			t.Logf("the package's cluster up in %s (once for all its tests)", time.Since(start).Round(100*time.Millisecond))
		}
	}
	if shared.err != nil {
		t.Fatalf("cluster up: %v", shared.err)
	}
	c := shared.c
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the end of every process's output:\n%s", c.Logs())
		}
	})
	return c
}

// downShared tears the package's cluster down, if it is up.
func downShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	c := shared.c
	shared.c, shared.err = nil, nil
	if c == nil {
		return nil
	}
	return c.Down()
}
