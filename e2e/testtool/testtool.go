package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/metrics-proxy/injector/webhook/components"
)

// Binary returns the path of the named executable on PATH; see the package comment for a missing one.
func Binary(t testing.TB, name, installHint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not found on PATH: "+installHint)
	}
	return path
}

// Missing skips the test outside CI and fails it in CI, with why.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI: %s", why)
	}
	t.Skipf("skipped outside CI: %s", why)
}

// RepoRoot returns the root of the repository, found from this source file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// HAProxy returns the path of the distribution's haproxy binary.
func HAProxy(t testing.TB) string {
	t.Helper()
	return Binary(t, "haproxy", "install the distribution's package (apt-get install haproxy)")
}

// ComponentSubsets returns every non-empty subset of the components, each in canonical order:
// the inputs of tests that must hold for any choice of components.
func ComponentSubsets() [][]components.Component {
	all := components.All()
	var out [][]components.Component
	for mask := 1; mask < 1<<len(all); mask++ {
		var cs []components.Component
		for i, c := range all {
			if mask&(1<<i) != 0 {
				cs = append(cs, c)
			}
		}
		out = append(out, cs)
	}
	return out
}
