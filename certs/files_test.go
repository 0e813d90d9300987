package certs_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/inject"
)

// TestFilesRotationUnderLoad: a server in files mode (cert-manager mode is the same with the
// Secret mounted) gets its certificate files replaced while admission requests flow through the
// API server to it: no request fails, and new connections get the new certificate, no restart.
func TestFilesRotationUnderLoad(t *testing.T) {
	if noControlPlane != nil {
		testtool.Missing(t, noControlPlane.Error())
	}
	ca := secretCA(t)
	dir := t.TempDir()
	writeCert(t, dir, ca)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	addr := startFilesServer(ctx, t, dir)
	pointWebhooksAt(t, addr)
	before := servedFingerprint(t, addr)
	ns := proxyNamespace(t)
	require.NoError(t, dryRunStub(ns))

	l := startLoad(ns)
	time.Sleep(500 * time.Millisecond)
	writeCert(t, dir, ca) // a new key and certificate, as a renewed Secret's volume would get
	require.Eventually(t, func() bool { return servedFingerprint(t, addr) != before }, 30*time.Second, 100*time.Millisecond,
		"new connections get the new certificate")
	time.Sleep(time.Second)
	l.finish(t)
}

// secretCA reads the self-signed mode's CA from its Secret, to sign files-mode certificates the
// webhook configurations' caBundle trusts.
func secretCA(t *testing.T) *rotator.KeyPairArtifacts {
	t.Helper()
	s := getSecret(t)
	certBlock, _ := pem.Decode(s.Data[certs.CAKey])
	keyBlock, _ := pem.Decode(s.Data[certs.CAPrivateKey])
	require.NotNil(t, certBlock)
	require.NotNil(t, keyBlock)
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	require.NoError(t, err)
	key, err := x509.ParsePKCS1PrivateKey(keyBlock.Bytes)
	require.NoError(t, err)
	return &rotator.KeyPairArtifacts{Cert: cert, Key: key, CertPEM: s.Data[certs.CAKey], KeyPEM: s.Data[certs.CAPrivateKey]}
}

// writeCert issues a fresh localhost certificate from ca into dir, each file replaced atomically.
func writeCert(t *testing.T, dir string, ca *rotator.KeyPairArtifacts) {
	t.Helper()
	iss := &rotator.CertRotator{DNSName: "localhost", ExtKeyUsages: &[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	cert, key, err := iss.CreateCertPEM(ca, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, err)
	for name, data := range map[string][]byte{certs.KeyFile: key, certs.CertFile: cert} {
		tmp := filepath.Join(dir, name+".tmp")
		require.NoError(t, os.WriteFile(tmp, data, 0o600))
		require.NoError(t, os.Rename(tmp, filepath.Join(dir, name)))
	}
}

// startFilesServer runs a webhook server in files mode on dir and returns its address once ready.
func startFilesServer(ctx context.Context, t *testing.T, dir string) string {
	t.Helper()
	ports := freePorts(t, 2)
	mgr, err := server.New(cp.Config, server.Options{
		Inject: inject.Config{Version: "certs-test"}, Host: "127.0.0.1", Port: ports[0],
		Certs: &certs.Files{Dir: dir, Interval: time.Second}, MetricsBindAddress: "0",
		HealthProbeBindAddress: fmt.Sprintf("127.0.0.1:%d", ports[1]), Logger: logr.Discard(),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitReady(t, ports[1])
	return fmt.Sprintf("127.0.0.1:%d", ports[0])
}

// servedFingerprint opens a new connection to addr and returns its certificate's fingerprint.
func servedFingerprint(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // only the fingerprint is read
	require.NoError(t, err)
	defer conn.Close()
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
	return fmt.Sprintf("%x", sum)
}
