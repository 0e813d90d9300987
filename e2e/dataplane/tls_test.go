package dataplane_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/dataplane"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestTLSProbes: with Options.CertDir haproxy serves the certificate mounted at names.CertFile,
// and after UseTLS the Harness's probes and pipelines to that frontend go over TLS that verifies
// it for NODE_IP; without UseTLS the same probe gets no HTTP answer from the TLS frontend.
func TestTLSProbes(t *testing.T) {
	if os.Geteuid() != 0 {
		testtool.Missing(t, "root, for haproxy's mount namespace")
	}
	dataplane.Binary(t)
	kcm, ok := components.Lookup("kube-controller-manager")
	require.True(t, ok)
	cfg := inject.HAProxyConfigTLS([]components.Component{kcm}, []components.Component{kcm})
	dir := t.TempDir()
	cert, err := certs.NewNodeCert(net.ParseIP(dataplane.DefaultNodeIP), time.Now())
	require.NoError(t, err)
	require.NoError(t, cert.Write(filepath.Join(dir, filepath.Base(names.CertFile))))
	addr := net.JoinHostPort(dataplane.DefaultNodeIP, "10257")

	h := dataplane.New(t)
	h.StartHAProxy(t, cfg, dataplane.Options{Wait: []string{addr}, CertDir: dir})
	plain := h.Probe(dataplane.Probe{Addr: addr, Method: "GET", Target: "/metrics"})
	assert.Error(t, plain.Err, "plain HTTP to a TLS frontend: %s", plain)
	assert.Empty(t, plain.Seen)

	block, _ := pem.Decode(cert.CertPEM)
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	h.UseTLS(addr, &tls.Config{RootCAs: roots, ServerName: dataplane.DefaultNodeIP, MinVersion: tls.VersionTLS12})
	o := h.Probe(dataplane.Probe{Addr: addr, Method: "GET", Target: "/metrics"})
	require.NoError(t, o.Err, "%s", o)
	assert.Equal(t, 200, o.Resp.Status)
	require.Len(t, o.Seen, 1)
	assert.Equal(t, dataplane.TestToken, o.Seen[0].Authorization)
	answer, seen, err := h.Pipeline(addr, "/metrics", "/configz")
	require.NoError(t, err)
	assert.Contains(t, answer, "HTTP/1.1 403 ")
	assert.Len(t, seen, 1)

	h.UseTLS(addr, &tls.Config{RootCAs: x509.NewCertPool(), ServerName: dataplane.DefaultNodeIP, MinVersion: tls.VersionTLS12})
	o = h.Probe(dataplane.Probe{Addr: addr, Method: "GET", Target: "/metrics"})
	assert.ErrorContains(t, o.Err, "certificate", "a certificate from an unknown authority is refused")
}
