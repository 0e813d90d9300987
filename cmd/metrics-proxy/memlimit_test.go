package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSetMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

	debug.SetMemoryLimit(math.MaxInt64)
	require.NoError(t, setMemoryLimit(logr.Discard(), env(map[string]string{"MEMORY_LIMIT": "268435456"})))
	assert.Equal(t, int64(268435456*9/10), debug.SetMemoryLimit(-1), "90% of the container's limit")

	debug.SetMemoryLimit(math.MaxInt64)
	require.NoError(t, setMemoryLimit(logr.Discard(), env(map[string]string{"MEMORY_LIMIT": "268435456", "GOMEMLIMIT": "100MiB"})))
	assert.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(-1), "GOMEMLIMIT wins (the runtime applied it)")

	require.NoError(t, setMemoryLimit(logr.Discard(), env(nil)))
	assert.Equal(t, int64(math.MaxInt64), debug.SetMemoryLimit(-1), "no limit known, none set")

	for _, bad := range []string{"256Mi", "-1", "x"} {
		err := setMemoryLimit(logr.Discard(), env(map[string]string{"MEMORY_LIMIT": bad}))
		require.Error(t, err, bad)
		assert.Contains(t, err.Error(), "MEMORY_LIMIT")
	}
}
