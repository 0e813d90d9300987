package testtool

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"testing"
)

// ProvenHAProxyBranches are the HAProxy branches the policy's grammar is proven on: every test
// that runs configs on the real haproxy runs them on one binary of each. 2.6 is the
// distribution's package (Debian 12); 3.0 is Debian 13's, built by `make haproxy` into bin/.
var ProvenHAProxyBranches = []string{"2.6", "3.0"}

// HAProxyBuild is one haproxy binary and the branch it reports.
type HAProxyBuild struct {
	// Branch is major.minor, as `haproxy -v` reports it.
	Branch string
	// Version is the whole version `haproxy -v` reports.
	Version string
	// Path is the executable.
	Path string
}

var (
	haproxiesOnce sync.Once
	haproxies     map[string]HAProxyBuild
)

var haproxyVersion = regexp.MustCompile(`(?m)^HA-?Proxy version ((\d+\.\d+)\S*)`)

// findHAProxies runs `haproxy -v` of the distribution's haproxy and of every bin/haproxy-* and
// keeps the first binary of each branch.
func findHAProxies() map[string]HAProxyBuild {
	var paths []string
	for _, p := range []string{"haproxy", "/usr/sbin/haproxy"} {
		if path, err := exec.LookPath(p); err == nil {
			paths = append(paths, path)
			break
		}
	}
	built, _ := filepath.Glob(filepath.Join(RepoRoot(), "bin", "haproxy-*"))
	sort.Strings(built)
	paths = append(paths, built...)
	found := map[string]HAProxyBuild{}
	for _, path := range paths {
		out, err := exec.Command(path, "-v").Output()
		if err != nil {
			continue
		}
		m := haproxyVersion.FindSubmatch(out)
		if m == nil {
			continue
		}
		if _, ok := found[string(m[2])]; !ok {
			found[string(m[2])] = HAProxyBuild{Branch: string(m[2]), Version: string(m[1]), Path: path}
		}
	}
	return found
}

// HAProxies returns one haproxy per proven branch, in the order of ProvenHAProxyBranches. A
// missing branch fails the test in CI (.ci/run installs and builds them all); outside CI it is
// logged and left out, and the test skips when none is there.
func HAProxies(t testing.TB) []HAProxyBuild {
	t.Helper()
	haproxiesOnce.Do(func() { haproxies = findHAProxies() })
	var out []HAProxyBuild
	for _, branch := range ProvenHAProxyBranches {
		b, ok := haproxies[branch]
		if !ok {
			why := "no haproxy " + branch + " (the distribution's package for 2.6, `make haproxy` builds 3.0 into bin/)"
			if os.Getenv("CI") != "" {
				t.Fatalf("CI: %s", why)
			}
			t.Logf("left out: %s", why)
			continue
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		Missing(t, "no haproxy of any proven branch")
	}
	return out
}
