package main

import (
	"fmt"
	"runtime/debug"
	"strconv"

	"github.com/go-logr/logr"
)

// memoryLimitShare is the share of the container's memory limit given to the Go runtime as its
// soft limit: the rest is for what the runtime does not count (stacks of the OS, buffers).
const memoryLimitShare = 0.9

// setMemoryLimit sets the Go runtime's soft memory limit to 90% of MEMORY_LIMIT (bytes, the
// container's limit from the downward API) unless GOMEMLIMIT is set, which the runtime already
// applied. getenv is os.Getenv.
func setMemoryLimit(logger logr.Logger, getenv func(string) string) error {
	if v := getenv("GOMEMLIMIT"); v != "" {
		logger.Info("memory limit from GOMEMLIMIT", "GOMEMLIMIT", v)
		return nil
	}
	v := getenv("MEMORY_LIMIT")
	if v == "" {
		return nil
	}
	limit, err := strconv.ParseInt(v, 10, 64)
	if err != nil || limit <= 0 {
		return fmt.Errorf("MEMORY_LIMIT %q: want the container's memory limit in bytes", v)
	}
	soft := int64(float64(limit) * memoryLimitShare)
	debug.SetMemoryLimit(soft)
	logger.Info("memory limit set", "containerLimit", limit, "GOMEMLIMIT", soft)
	return nil
}
