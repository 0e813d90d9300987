//go:build linux

package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTeardown: a run interrupted with SIGINT removes everything it created; a run killed with
// SIGKILL leaves its containers behind, and the next run finds and removes them before it
// starts; no machine-wide setting changes across all of it.
func TestTeardown(t *testing.T) {
	dir := bin(t)
	// This test needs the machine's cluster lock for its own runs: the package's cluster goes.
	require.NoError(t, downShared(), "the package's cluster down")
	ctx := testContext(t)
	settings := machineSettings(t)
	existed := map[string]bool{}
	for d := range hostMountpoints {
		_, err := os.Stat(d)
		existed[d] = err == nil
	}
	existed["netns:"+netnsEntries()] = true

	start := time.Now()
	interrupted := startChild(ctx, t, dir)
	t.Logf("a cluster of one node up in %s", time.Since(start).Round(100*time.Millisecond))
	start = time.Now()
	require.NoError(t, interrupted.Process.Signal(os.Interrupt))
	require.NoError(t, waitChild(interrupted, time.Minute), "the interrupted run exits cleanly")
	t.Logf("an interrupted run tore its cluster down in %s", time.Since(start).Round(100*time.Millisecond))
	assertNothingLeft(t, existed)

	killed := startChild(ctx, t, dir)
	require.NoError(t, killed.Process.Kill())
	_ = waitChild(killed, time.Minute)
	require.NotEmpty(t, nodeNamespaces(), "a killed run leaves its node's namespace")
	require.NotEmpty(t, processesInCgroups(), "a killed run leaves its containers running")
	frozen := freezeContainer(t)
	t.Logf("froze %s, as a runc killed in kill --all leaves it", frozen)

	var out bytes.Buffer
	start = time.Now()
	c, err := Up(ctx, Options{Bin: dir, Out: &out})
	require.NoError(t, err, out.String())
	t.Logf("the next run:\n%s", out.String())
	assert.Contains(t, out.String(), "removed what an earlier run left:")
	assert.Contains(t, out.String(), "processes")
	assert.Contains(t, out.String(), "frozen cgroups (thawed)")
	require.NoError(t, c.Down())
	assertNothingLeft(t, existed)
	assert.Equal(t, settings, machineSettings(t), "machine-wide settings are unchanged")
}

// startChild runs a cluster in a child process (TestMain's child mode) and returns once it is up.
func startChild(ctx context.Context, t *testing.T, bin string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+bin)
	stderr := &harness.TailBuffer{Size: 8 << 10} // written by exec's copier while we may read it
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	up := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if s.Text() == "up" {
				up <- true
				return
			}
		}
		up <- false
	}()
	select {
	case ok := <-up:
		require.True(t, ok, "the child exited before its cluster was up: %s", stderr.String())
	case <-time.After(5 * time.Minute):
		t.Fatalf("the child's cluster not up after 5m: %s", stderr.String())
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	}
	return cmd
}

// freezeContainer freezes the deepest of the cluster's cgroups that has processes and returns it:
// with cgroup v1's freezer where the machine has it (its frozen processes ignore SIGKILL until
// thawed), else with v2's cgroup.freeze.
func freezeContainer(t *testing.T) string {
	t.Helper()
	for _, freezer := range []struct{ file, frozen string }{{"freezer.state", "FROZEN"}, {"cgroup.freeze", "1"}} {
		for _, d := range cgroupDirs() {
			procs, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			file := filepath.Join(d, freezer.file)
			if _, statErr := os.Stat(file); err != nil || statErr != nil || len(bytes.TrimSpace(procs)) == 0 {
				continue
			}
			require.NoError(t, os.WriteFile(file, []byte(freezer.frozen), 0), "freeze %s", d)
			require.Eventually(t, func() bool {
				state, err := os.ReadFile(file)
				return err == nil && strings.TrimSpace(string(state)) == freezer.frozen
			}, 10*time.Second, 50*time.Millisecond, "%s frozen", d)
			return d
		}
	}
	t.Fatal("no cgroup of the cluster with processes and a freezer")
	return ""
}

// waitChild waits for the child to exit, at most timeout.
func waitChild(cmd *exec.Cmd, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return errors.New("the child did not exit")
	}
}

// assertNothingLeft checks that no namespace, link, cgroup, mount, directory or process of a
// cluster remains, and that the mountpoints on the host are as they were (existed).
func assertNothingLeft(t *testing.T, existed map[string]bool) {
	t.Helper()
	assert.Empty(t, nodeNamespaces(), "network namespaces")
	links, err := run(context.Background(), "ip", "-o", "link", "show")
	require.NoError(t, err)
	assert.NotContains(t, links, Prefix, "links")
	assert.Empty(t, cgroupDirs(), "cgroups")
	dir := filepath.Join(os.TempDir(), "metrics-proxy-cluster")
	_, err = os.Stat(dir)
	assert.True(t, os.IsNotExist(err), "the state directory %s: %v", dir, err)
	assert.Empty(t, mountsUnder(dir), "mounts")
	assert.Empty(t, processesWith(dir), "processes running from the state directory")
	for d, was := range existed {
		if entries, ok := strings.CutPrefix(d, "netns:"); ok {
			assert.Equal(t, entries, netnsEntries(), "the machine's named network namespaces")
			continue
		}
		_, err := os.Stat(d)
		assert.Equal(t, was, err == nil, "mountpoint %s", d)
	}
}

// netnsEntries lists /run/netns (where ip netns and containerd put named network namespaces).
func netnsEntries() string {
	entries, _ := os.ReadDir("/run/netns")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

// processesWith lists the processes whose command line mentions s.
func processesWith(s string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(data), s) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(data), "\x00", " "))
		}
	}
	return out
}

// machineSettings are the machine-wide settings a node must not change: the sysctls the kubelet
// and kube-proxy would write, and the machine's own iptables rules.
func machineSettings(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, key := range []string{"vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops", "net/ipv4/ip_forward",
		"net/ipv4/conf/all/route_localnet", "net/netfilter/nf_conntrack_max", "net/bridge/bridge-nf-call-iptables"} {
		data, err := os.ReadFile("/proc/sys/" + key)
		if err == nil || !errors.Is(err, syscall.ENOENT) {
			got[key] = strings.TrimSpace(string(data))
		}
	}
	rules, err := run(context.Background(), "iptables-save")
	require.NoError(t, err)
	var kept []string
	for _, line := range strings.Split(rules, "\n") {
		if !strings.HasPrefix(line, "#") {
			kept = append(kept, line)
		}
	}
	got["iptables-save"] = strings.Join(kept, "\n")
	return got
}
