package policy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/testtool"
)

// TestAcceptedConfigsRunOnHAProxy: everything the validator accepts is a configuration the real
// HAProxy accepts too, 2.6 and 3.0 (haproxy -c), so that accepting never means a proxy that cannot start.
func TestAcceptedConfigsRunOnHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	dir := t.TempDir()
	for _, hp := range testtool.HAProxies(t) {
		for _, tc := range acceptCases(t) {
			t.Run(hp.Branch+"/"+tc.name, func(t *testing.T) {
				path := filepath.Join(dir, "haproxy.cfg")
				require.NoError(t, os.WriteFile(path, []byte(tc.cfg), 0o600))
				cmd := exec.Command(hp.Path, "-c", "-f", path)
				cmd.Env = append(os.Environ(), "NODE_IP=127.0.0.1")
				out, err := cmd.CombinedOutput()
				assert.NoError(t, err, "haproxy %s -c refuses a config the validator accepts:\n%s\n%s", hp.Version, out, tc.cfg)
			})
		}
	}
}
