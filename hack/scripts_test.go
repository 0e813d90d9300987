// Package hack_test checks the build helpers' shell scripts.
package hack_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuildFailureStopsTicker: when a build fails, build-control-plane.sh exits non-zero, says
// which binary failed, and leaves no progress ticker behind.
func TestBuildFailureStopsTicker(t *testing.T) {
	script, err := os.ReadFile("build-control-plane.sh")
	require.NoError(t, err)
	// A copy in a root without hack/tools: the build of etcd fails at once.
	root := t.TempDir()
	copied := filepath.Join(root, "hack", "build-control-plane.sh")
	require.NoError(t, os.MkdirAll(filepath.Dir(copied), 0o755))
	require.NoError(t, os.WriteFile(copied, script, 0o755))
	logFile := filepath.Join(root, "out.log")
	out, err := os.Create(logFile)
	require.NoError(t, err)
	defer out.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", copied, "etcd")
	cmd.Stdout, cmd.Stderr = out, out // a file, not a pipe: a leftover ticker must not hang Wait
	err = cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the failed build must fail the script")
	log, _ := os.ReadFile(logFile)
	assert.Contains(t, string(log), "building etcd", string(log))
	assert.Contains(t, string(log), "failed", string(log))

	time.Sleep(100 * time.Millisecond) // let a killed ticker be reaped
	assert.Empty(t, processesRunning(t, copied), "a progress ticker outlived the failed build")
}

// processesRunning lists the pids whose command line mentions path.
func processesRunning(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), path) {
			pids = append(pids, e.Name())
			if pid, err := strconv.Atoi(e.Name()); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL) // do not leave it behind either way
			}
		}
	}
	return pids
}
