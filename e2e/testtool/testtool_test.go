package testtool

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/components"
)

func TestComponentSubsets(t *testing.T) {
	subsets := ComponentSubsets()
	require.Len(t, subsets, 1<<len(components.All())-1)
	seen := map[string]bool{}
	for _, cs := range subsets {
		require.NotEmpty(t, cs)
		joined := components.Join(cs)
		assert.False(t, seen[joined], "%s twice", joined)
		seen[joined] = true
		parsed, err := components.Parse(joined)
		require.NoError(t, err)
		assert.Equal(t, cs, parsed, "canonical order")
	}
	assert.True(t, seen[components.Join(components.All())])
}

// TestHAProxies: each binary HAProxies returns reports the branch it stands for, and the branches
// come in the order of ProvenHAProxyBranches.
func TestHAProxies(t *testing.T) {
	builds := HAProxies(t)
	var branches []string
	for _, b := range builds {
		out, err := exec.Command(b.Path, "-v").Output()
		require.NoError(t, err)
		assert.Contains(t, string(out), "version "+b.Branch+".", b.Path)
		branches = append(branches, b.Branch)
	}
	assert.Subset(t, ProvenHAProxyBranches, branches)
	if os.Getenv("CI") != "" {
		assert.Equal(t, ProvenHAProxyBranches, branches)
	}
}
