package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
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
