package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/go-logr/logr"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/inject"
)

// cp is the control plane of the live-cluster commands' tests (audit, explain): kube-apiserver
// and etcd with our webhook server, injecting as liveVersion. nil when the binaries are missing.
var (
	cp             *harness.ControlPlane
	noControlPlane error
)

// liveVersion is the webhook server's version and the commands'.
const liveVersion = "live-test"

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	assets, err := harness.Assets()
	if err != nil {
		noControlPlane = err
		return m.Run()
	}
	if cp, err = harness.Start(context.Background(), harness.Options{Assets: assets, Inject: inject.Config{Version: liveVersion}, Logger: logr.Discard()}); err != nil {
		fmt.Fprintf(os.Stderr, "start control plane: %v\n", err)
		return 1
	}
	defer cp.Stop()
	return m.Run()
}

// needControlPlane skips (outside CI) or fails (in CI) a test when there is no control plane.
func needControlPlane(t *testing.T) {
	t.Helper()
	if noControlPlane != nil {
		testtool.Missing(t, noControlPlane.Error())
	}
}
