package testtool

import (
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
