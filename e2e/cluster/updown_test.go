package cluster

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUpDown(t *testing.T) {
	ctx := testContext(t)
	c := up(ctx, t, 1)
	require.Len(t, c.Nodes, 2)
}
