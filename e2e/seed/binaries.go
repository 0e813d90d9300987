package seed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

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
