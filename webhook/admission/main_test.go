package admission_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/inject"
)

// cp is the one local control plane of this package's integration tests, started in TestMain
// with our webhook server registered through deploy/base's MutatingWebhookConfiguration.
var cp *harness.ControlPlane

// noControlPlane says why there is no control plane; integration tests skip (or fail in CI).
var noControlPlane error

// policyFile is the server's policy file; tests may rewrite it (see withPolicy).
var policyFile string

// denyPolicy is the policy the server starts with: the defaults, one exempt namespace.
const denyPolicy = `apiVersion: metrics-proxy.io/v1alpha1
kind: Policy
enforcement: Deny
exemptNamespaces: [break-glass]
`

// testVersion is the injector version the integration tests run with.
const testVersion = "integration"

func TestMain(m *testing.M) {
	os.Exit(runWithControlPlane(m))
}

func runWithControlPlane(m *testing.M) int {
	assets, err := harness.Assets()
	if err != nil {
		noControlPlane = err
		return m.Run()
	}
	logger := testLogger()
	ctrl.SetLogger(logger)
	dir, err := os.MkdirTemp("", "metrics-proxy-policy-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "policy dir: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	policyFile = filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(denyPolicy), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "policy file: %v\n", err)
		return 1
	}
	cp, err = harness.Start(context.Background(), harness.Options{
		Assets: assets, Inject: inject.Config{Version: testVersion}, Logger: logger, PolicyFile: policyFile,
		WrapTransport: lagWatches})
	if err != nil {
		fmt.Fprintf(os.Stderr, "start control plane: %v\n", err)
		return 1
	}
	defer cp.Stop()
	return m.Run()
}

// testLogger logs the server's warnings to stderr (TEST_LOG_LEVEL=-4 shows every decision).
func testLogger() logr.Logger {
	level := slog.LevelWarn
	if v, err := strconv.Atoi(os.Getenv("TEST_LOG_LEVEL")); err == nil {
		level = slog.Level(v)
	}
	return logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// needControlPlane skips (outside CI) or fails (in CI) a test when TestMain found no control plane.
func needControlPlane(t *testing.T) {
	t.Helper()
	if noControlPlane != nil {
		testtool.Missing(t, noControlPlane.Error())
	}
}
