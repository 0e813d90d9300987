package policy_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/dataplane"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/names"
)

// useTLSFrontends prepares a corpus case whose frontends of tls terminate TLS: a fresh per-node
// certificate for NODE_IP, as the proxy-cert init container writes it, that haproxy sees at
// names.CertFile (opts.CertDir), and every probe to those frontends over TLS that verifies the
// certificate for NODE_IP, until the subtest ends.
func useTLSFrontends(t *testing.T, h *dataplane.Harness, opts *dataplane.Options, tlsOn []components.Component) {
	t.Helper()
	if os.Geteuid() != 0 {
		testtool.Missing(t, "root, to mount the frontend certificate at "+names.CertDir+" in haproxy's mount namespace")
	}
	dir := t.TempDir()
	cert, err := certs.NewNodeCert(net.ParseIP(dataplane.DefaultNodeIP), time.Now())
	require.NoError(t, err)
	require.NoError(t, cert.Write(filepath.Join(dir, filepath.Base(names.CertFile))))
	opts.CertDir = dir
	block, _ := pem.Decode(cert.CertPEM)
	require.NotNil(t, block)
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	for _, c := range tlsOn {
		addr := net.JoinHostPort(dataplane.DefaultNodeIP, strconv.Itoa(int(c.Port)))
		h.UseTLS(addr, &tls.Config{RootCAs: roots, ServerName: dataplane.DefaultNodeIP, MinVersion: tls.VersionTLS12})
		t.Cleanup(func() { h.UseTLS(addr, nil) })
	}
}
