package names_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPureCoresImportNoPlumbing keeps the layering: the pure cores import neither
// controller-runtime nor a Kubernetes client, and policy reaches the public names through this
// package, not through the injector.
func TestPureCoresImportNoPlumbing(t *testing.T) {
	const mod = "github.com/metrics-proxy/injector/"
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{pkg: mod + "webhook/names", forbidden: []string{mod + "webhook/", "k8s.io/", "sigs.k8s.io/"}},
		{pkg: mod + "webhook/haproxy", forbidden: []string{mod + "webhook/inject", mod + "webhook/policy", "k8s.io/", "sigs.k8s.io/"}},
		{pkg: mod + "webhook/inject", forbidden: []string{mod + "webhook/policy", "sigs.k8s.io/controller-runtime", "k8s.io/client-go"}},
		{pkg: mod + "webhook/policy", forbidden: []string{mod + "webhook/inject", "sigs.k8s.io/controller-runtime", "k8s.io/client-go"}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.pkg, mod), func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", tt.pkg).Output()
			require.NoError(t, err, "go list -deps %s", tt.pkg)
			deps := strings.Fields(string(out))
			require.Contains(t, deps, tt.pkg)
			for _, d := range deps {
				if d == tt.pkg || d == mod+"webhook/names" || d == mod+"webhook/components" || d == mod+"webhook/haproxy" && tt.pkg == mod+"webhook/policy" {
					continue
				}
				for _, f := range tt.forbidden {
					assert.False(t, strings.HasPrefix(d, f), "%s imports %s", tt.pkg, d)
				}
			}
		})
	}
}
