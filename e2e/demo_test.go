package e2e

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
)

// TestDemo runs `make demo`'s program to its end, then again interrupted with Ctrl-C, and checks
// both runs show what they promise and leave no process behind.
func TestDemo(t *testing.T) {
	if _, err := harness.Assets(); err != nil {
		testtool.Missing(t, err.Error())
	}
	bin := filepath.Join(t.TempDir(), "demo")
	build := exec.Command("go", "build", "-o", bin, "./demo")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	t.Run("to the end", func(t *testing.T) {
		marker := "METRICS_PROXY_DEMO_RUN=" + t.Name() + time.Now().Format(time.RFC3339Nano)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = append(os.Environ(), marker)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Run(), out.String())
		for _, want := range []string{"daemonset.apps/metrics-proxy created", "name: haproxy", "fieldPath: status.hostIP",
			"hostNetwork: true", "key: node-role.kubernetes.io/control-plane", "bind ${NODE_IP}:2381", "Stopping"} {
			assert.Contains(t, out.String(), want)
		}
		assert.Empty(t, processesWith(t, marker), "processes left running after the demo ended")
	})
	t.Run("interrupted", func(t *testing.T) {
		marker := "METRICS_PROXY_DEMO_RUN=" + t.Name() + time.Now().Format(time.RFC3339Nano)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = append(os.Environ(), marker)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		scanner := bufio.NewScanner(stdout)
		var seen []string
		for scanner.Scan() { // interrupt once the control plane is up and the demo at work
			seen = append(seen, scanner.Text())
			if strings.Contains(scanner.Text(), "Create a namespace") {
				require.NotEmpty(t, processesWith(t, marker), "the demo's control plane should be running now")
				require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
				break
			}
		}
		for scanner.Scan() {
			seen = append(seen, scanner.Text())
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, strings.Join(seen, "\n"))
		assert.Equal(t, 130, exit.ExitCode())
		assert.Contains(t, strings.Join(seen, "\n"), "interrupted")
		assert.Empty(t, processesWith(t, marker), "processes left running after Ctrl-C")
	})
}

// processesWith lists the pids of processes whose environment holds marker: the demo's children
// (etcd, kube-apiserver, kubectl) inherit it.
func processesWith(t *testing.T, marker string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to look for processes: %v", err)
	}
	var pids []string
	for _, e := range entries {
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		state, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if bytes.Contains(state, []byte(") Z ")) {
			continue // a zombie already exited; only its parent's wait is missing
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if string(kv) == marker {
				pids = append(pids, e.Name())
			}
		}
	}
	return pids
}
