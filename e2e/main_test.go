package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/go-logr/logr"
	"github.com/metrics-proxy/injector/e2e/seed"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// TestMain silences controller-runtime's global logger, which the in-process webhook server of
// TestSeed would otherwise complain about.
func TestMain(m *testing.M) {
	ctrllog.SetLogger(logr.Discard())
	os.Exit(runTests(m))
}

// metricsProxyBin is the metrics-proxy binary the scenarios' kubelet runs for the proxy-cert
// init container, built once per run of this package, outside the scenarios' time budget.
var metricsProxyBin string

func runTests(m *testing.M) int {
	if metricsProxyBin = os.Getenv("METRICS_PROXY_BIN"); metricsProxyBin != "" {
		return m.Run() // built by the test that ran this one (TestSeedPrometheus)
	}
	dir, err := os.MkdirTemp("", "metrics-proxy-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if metricsProxyBin, err = seed.BuildMetricsProxy(context.Background(), dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
