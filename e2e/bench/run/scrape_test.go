package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestProxyConfigIsRenders: the scrape part measures render's config; the render variant differs
// from it only in the certificate's path, the others only in what they say.
func TestProxyConfigIsRenders(t *testing.T) {
	variants := scrapeVariants(100)
	require.Equal(t, variantRender, variants[0].Name)
	want := inject.HAProxyConfigTLS(components.All(), components.DefaultTLS(components.All()))
	got, err := proxyConfig(variants[0], "/tmp/x/frontend.pem")
	require.NoError(t, err)
	assert.Equal(t, strings.ReplaceAll(want, names.CertFile, "/tmp/x/frontend.pem"), got)

	got, err = proxyConfig(variants[1], "/tmp/x/frontend.pem")
	require.NoError(t, err)
	assert.Equal(t, inject.HAProxyConfig(components.All()), got, "tls none: the seed's all-HTTP config")

	got, err = proxyConfig(variants[2], "/tmp/x/frontend.pem")
	require.NoError(t, err)
	assert.Contains(t, got, "default-server maxconn 100\n")
	assert.NotContains(t, got, "maxconn 10\n")
}

// TestProxyConfigsPassHAProxy: every variant, with its certificate written as proxy-cert writes
// it, passes the real haproxy's check.
func TestProxyConfigsPassHAProxy(t *testing.T) {
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("haproxy not installed (make haproxy)")
		}
		t.Fatal("haproxy not installed")
	}
	dir := t.TempDir()
	cert, err := certs.NewNodeCert(net.ParseIP(scrapeIPs[0]), time.Now())
	require.NoError(t, err)
	certFile := filepath.Join(dir, "frontend.pem")
	require.NoError(t, cert.Write(certFile))
	for _, v := range scrapeVariants(100) {
		cfg, err := proxyConfig(v, certFile)
		require.NoError(t, err)
		file := filepath.Join(dir, v.Name+".cfg")
		require.NoError(t, os.WriteFile(file, []byte(cfg), 0o600))
		cmd := exec.Command(haproxy, "-c", "-f", file)
		cmd.Env = append(os.Environ(), names.NodeIPEnv+"="+scrapeIPs[0])
		out, err := cmd.CombinedOutput()
		assert.NoError(t, err, "%s: %s", v.Name, out)
	}
}
