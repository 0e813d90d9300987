package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/certs"
)

// TestNodeCert: a key and a certificate that verifies for the node's IP and nothing else, written
// where HAProxy finds them, the key readable by its owner only; every call a fresh key.
func TestNodeCert(t *testing.T) {
	now := time.Now()
	ip := net.ParseIP("192.0.2.7")
	c, err := certs.NewNodeCert(ip, now)
	require.NoError(t, err)
	pair, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	require.NoError(t, err, "the key matches the certificate")
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	verify := func(name string) error {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, CurrentTime: now})
		return err
	}
	require.NoError(t, verify("192.0.2.7"))
	assert.Error(t, verify("192.0.2.8"), "valid for the node's IP only")
	assert.Error(t, verify("localhost"))
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, leaf.ExtKeyUsage)

	dir := t.TempDir()
	path := filepath.Join(dir, "frontend.pem")
	require.NoError(t, c.Write(path))
	st, err := os.Stat(path + ".key")
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	fromDisk, err := tls.LoadX509KeyPair(path, path+".key")
	require.NoError(t, err)
	assert.Equal(t, pair.Certificate, fromDisk.Certificate)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary file left")

	again, err := certs.NewNodeCert(ip, now)
	require.NoError(t, err)
	assert.NotEqual(t, c.KeyPEM, again.KeyPEM, "a restart makes a fresh key")
	assert.NotEqual(t, c.Fingerprint, again.Fingerprint)
}

func TestNodeCertRejectsNoIP(t *testing.T) {
	for _, ip := range []net.IP{nil, net.IPv4zero, net.IPv6unspecified} {
		_, err := certs.NewNodeCert(ip, time.Now())
		assert.ErrorContains(t, err, "not a node IP", "%v", ip)
	}
}

func TestNodeCertWriteFails(t *testing.T) {
	c, err := certs.NewNodeCert(net.ParseIP("192.0.2.7"), time.Now())
	require.NoError(t, err)
	err = c.Write(filepath.Join(t.TempDir(), "missing", "frontend.pem"))
	assert.ErrorContains(t, err, "frontend.pem.key")
}
