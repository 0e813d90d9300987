package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/webhook/policy"
)

const warnPolicy = "apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\nenforcement: Warn\n"

func TestNewPolicyFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	valid := write("valid.yaml", warnPolicy)
	invalid := write("invalid.yaml", "apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\nenforcment: Deny\n")

	pf, err := NewPolicyFile(valid)
	require.NoError(t, err)
	assert.Equal(t, policy.EnforcementWarn, pf.Policy().Enforcement)

	_, err = NewPolicyFile(invalid)
	require.Error(t, err)
	assert.Contains(t, err.Error(), invalid)
	assert.Contains(t, err.Error(), "enforcment")

	_, err = NewPolicyFile(filepath.Join(dir, "absent.yaml"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	// The server refuses to start on an invalid policy, before it talks to any cluster.
	_, err = New(&rest.Config{Host: "https://127.0.0.1:1"}, Options{PolicyFile: invalid, Certs: &certs.Files{Dir: dir}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), invalid)

	// And without a certificate source.
	_, err = New(&rest.Config{Host: "https://127.0.0.1:1"}, Options{})
	require.ErrorIs(t, err, errNoCerts)
}

// TestPolicyFileReload: a changed file is picked up while the watch runs; an invalid change is
// read (the reload counter says so) and not put in force; a later valid change is picked up again.
func TestPolicyFileReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(file, []byte(warnPolicy), 0o644))
	pf, err := NewPolicyFile(file)
	require.NoError(t, err)
	pf.Interval = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pf.Start(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()

	eventually := func(want policy.Enforcement) {
		t.Helper()
		require.Eventually(t, func() bool { return pf.Policy().Enforcement == want }, 10*time.Second, 20*time.Millisecond)
	}
	require.NoError(t, os.WriteFile(file, []byte("apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\nenforcement: Deny\n"), 0o644))
	eventually(policy.EnforcementDeny)

	invalid := testutil.ToFloat64(policyReloads.WithLabelValues("invalid"))
	require.NoError(t, os.WriteFile(file, []byte("kind: [broken\n"), 0o644))
	// A positive signal that the watcher read the broken file, then the check that it kept the policy.
	require.Eventually(t, func() bool { return testutil.ToFloat64(policyReloads.WithLabelValues("invalid")) > invalid },
		10*time.Second, 20*time.Millisecond, "the watcher never read the broken file")
	assert.Equal(t, policy.EnforcementDeny, pf.Policy().Enforcement)

	// A ConfigMap volume swaps a symlink rather than writing the file: replace it by a rename.
	tmp := filepath.Join(dir, "next.yaml")
	require.NoError(t, os.WriteFile(tmp, []byte(warnPolicy), 0o644))
	require.NoError(t, os.Rename(tmp, file))
	eventually(policy.EnforcementWarn)
}

// TestPolicyFileWhole: a file written in place in two writes is read once, whole, never half;
// a file beyond MaxPolicyBytes is refused without being read, and the policy stays.
func TestPolicyFileWhole(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(file, []byte("apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\nenforcement: Deny\n"), 0o644))
	pf, err := NewPolicyFile(file)
	require.NoError(t, err)
	pf.Interval, pf.Settle = time.Hour, 3*time.Second // thirty times the gap between the two writes: margin for a loaded machine
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pf.Start(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()

	loaded := testutil.ToFloat64(policyReloads.WithLabelValues("loaded"))
	w, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	require.NoError(t, err)
	// The first half is a valid policy by itself (Warn, nothing exempt): it must never be in force.
	_, err = w.WriteString("apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\nenforcement: Warn\n")
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // a writer between two writes, well inside Settle
	_, err = w.WriteString("exemptNamespaces: [break-glass]\n")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Eventually(t, func() bool { return pf.Policy().Exempt("break-glass") }, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, loaded+1, testutil.ToFloat64(policyReloads.WithLabelValues("loaded")), "loaded once, whole")

	invalid := testutil.ToFloat64(policyReloads.WithLabelValues("invalid"))
	big := "apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\nexemptNamespaces: [" + strings.Repeat("a,", MaxPolicyBytes/2) + "a]\n"
	require.NoError(t, os.WriteFile(file, []byte(big), 0o644))
	require.Eventually(t, func() bool { return testutil.ToFloat64(policyReloads.WithLabelValues("invalid")) > invalid },
		10*time.Second, 20*time.Millisecond, "the watcher never looked at the oversized file")
	assert.True(t, pf.Policy().Exempt("break-glass"), "the policy in force stays")

	_, err = NewPolicyFile(file)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "more than the 64 KiB a policy may have")
}
