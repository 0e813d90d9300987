package seed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/metrics-proxy/injector/e2e/harness"
)

// Binaries returns the directory with the control-plane binaries (harness.Assets, checked for
// kube-controller-manager and kube-scheduler too) and the path of haproxy: on PATH, else the
// distribution's /usr/sbin/haproxy. The error says how to get what is missing.
func Binaries() (assets, haproxy string, err error) {
	if assets, err = harness.Assets(); err != nil {
		return "", "", err
	}
	for _, name := range []string{"kube-controller-manager", "kube-scheduler"} {
		if _, err := os.Stat(filepath.Join(assets, name)); err != nil {
			return "", "", fmt.Errorf("control-plane binary %s missing in %s: run hack/build-control-plane.sh (make control-plane)", name, assets)
		}
	}
	for _, candidate := range []string{"haproxy", "/usr/sbin/haproxy"} {
		if haproxy, err = exec.LookPath(candidate); err == nil {
			return assets, haproxy, nil
		}
	}
	return "", "", fmt.Errorf("haproxy not found: install the distribution's package (make haproxy, or apt-get install haproxy)")
}

// BuildMetricsProxy builds cmd/metrics-proxy of this module into dir: the binary the
// proxy-cert init container's image runs (Options.MetricsProxy).
func BuildMetricsProxy(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "metrics-proxy")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/metrics-proxy")
	cmd.Dir = moduleRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build metrics-proxy for the proxy-cert init container: %w: %s", err, msg)
	}
	return out, nil
}

// moduleRoot is the directory of this module's go.mod.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}
