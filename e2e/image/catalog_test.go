package image

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/testtool"
)

// TestKubeProxyImageCarriesExtensionLibraries: every iptables extension in the kube-proxy image
// comes with the libraries it loads (libxt_statistic.so needs libm: without it kube-proxy's
// iptables-restore fails for every Service with two endpoints or more, and its rules go stale).
func TestKubeProxyImageCarriesExtensionLibraries(t *testing.T) {
	extensions, _ := filepath.Glob(filepath.Join(xtablesDir, "*.so"))
	if len(extensions) == 0 {
		testtool.Missing(t, "no iptables extensions in "+xtablesDir+" (package iptables)")
	}
	if _, err := os.Stat("/usr/sbin/conntrack"); err != nil {
		testtool.Missing(t, "conntrack not installed")
	}
	spec, err := KubeProxy("/bin/sh") // any file stands for the kube-proxy binary here
	require.NoError(t, err)
	in := map[string]bool{}
	for _, f := range spec.Files {
		in[f.Path] = true
	}
	for _, e := range extensions {
		libs, err := Libraries(e)
		require.NoError(t, err)
		for _, l := range libs {
			assert.True(t, in[l], "%s needs %s", filepath.Base(e), l)
		}
	}
	statistic, err := Libraries(filepath.Join(xtablesDir, "libxt_statistic.so"))
	require.NoError(t, err)
	assert.NotEmpty(t, statistic, "libxt_statistic.so links libraries of its own")
}

// TestHAProxyImageCarriesTheGCCRuntime: glibc dlopens libgcc_s.so.1 for pthread_exit, which ldd
// does not list; HAProxy 3.0 in master-worker mode aborted at start in an image without it.
func TestHAProxyImageCarriesTheGCCRuntime(t *testing.T) {
	spec, err := HAProxy("/bin/sh") // any dynamic executable linked to libc stands for haproxy here
	require.NoError(t, err)
	var libc, gcc bool
	for _, f := range spec.Files {
		libc = libc || filepath.Base(f.Path) == "libc.so.6"
		gcc = gcc || filepath.Base(f.Path) == "libgcc_s.so.1"
	}
	require.True(t, libc, "the image holds libc")
	assert.True(t, gcc, "the image holds libgcc_s.so.1 beside libc")
}
