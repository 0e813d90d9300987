package policy_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestTLSFrontendOnHAProxy proves the one bind form the allowlist adds on the real haproxy: the
// generated config with TLS on every frontend, accepted by the validator, runs with the per-node
// certificate at names.CertFile (mounted there in a mount namespace of haproxy's own, as in the
// pod); over TLS that verifies for NODE_IP, /metrics reaches the component's upstream (HTTPS
// upstreams re-encrypted) with the Authorization header as sent, and every other target is
// denied by HAProxy without reaching any upstream.
func TestTLSFrontendOnHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	bin := dataplane.Binary(t)
	if os.Geteuid() != 0 {
		testtool.Missing(t, "root, to mount the certificate at "+names.CertDir+" in a mount namespace")
	}
	all := components.All()
	cfg := inject.HAProxyConfigTLS(all, all)
	require.Empty(t, policy.ValidateConfig([]byte(cfg), nil))

	h := dataplane.New(t) // the components' upstreams on 127.0.0.1, HTTPS for 10257 and 10259
	dir := t.TempDir()
	certDir := filepath.Join(dir, "tls")
	require.NoError(t, os.MkdirAll(certDir, 0o755))
	nodeCert, err := certs.NewNodeCert(net.ParseIP(dataplane.DefaultNodeIP), time.Now())
	require.NoError(t, err)
	require.NoError(t, nodeCert.Write(filepath.Join(certDir, "frontend.pem")))
	cfgPath := filepath.Join(dir, "haproxy.cfg")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o644))

	script := fmt.Sprintf("set -e\nmount -t tmpfs -o size=1m tls-test /run\nmkdir -p %s\nmount --bind %s %s\nexec \"$@\"",
		names.CertDir, certDir, names.CertDir)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", bin, "-db", "-f", cfgPath)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "NODE_IP=" + dataplane.DefaultNodeIP}
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })

	roots := x509.NewCertPool()
	block, _ := pem.Decode(nodeCert.CertPEM)
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	roots.AddCert(leaf)
	tlsConfig := &tls.Config{RootCAs: roots, ServerName: dataplane.DefaultNodeIP, MinVersion: tls.VersionTLS12}

	for _, c := range all {
		addr := net.JoinHostPort(dataplane.DefaultNodeIP, strconv.Itoa(int(c.Port)))
		waitTLS(t, addr, tlsConfig, out)
		t.Run(c.Name, func(t *testing.T) {
			status, seen := tlsGet(t, h, addr, tlsConfig, dataplane.AllowedPath)
			for i := 0; status == 503 && i < 20; i++ { // the first health checks
				time.Sleep(100 * time.Millisecond)
				status, seen = tlsGet(t, h, addr, tlsConfig, dataplane.AllowedPath)
			}
			assert.Equal(t, 200, status, out.String())
			if assert.Len(t, seen, 1) {
				assert.Equal(t, c.Name, seen[0].Upstream)
				assert.Equal(t, dataplane.AllowedPath, seen[0].URI)
				assert.Equal(t, dataplane.TestToken, seen[0].Authorization, "the token reaches the component")
			}
			for _, target := range dataplane.ForbiddenTargets(addr) {
				status, seen := tlsGet(t, h, addr, tlsConfig, target)
				assert.Equal(t, 403, status, target)
				assert.Empty(t, seen, target)
			}
		})
	}
	// Plain HTTP on a TLS frontend gets no answer from a component.
	_, seen, _ := h.Exchange(net.JoinHostPort(dataplane.DefaultNodeIP, "10257"), dataplane.Raw("GET", "/metrics", "x", "Authorization: "+dataplane.TestToken))
	assert.Empty(t, seen, "plain HTTP reached the component through a TLS frontend")
}

// waitTLS waits until addr completes a TLS handshake, at most five seconds.
func waitTLS(t *testing.T, addr string, cfg *tls.Config, out fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, cfg)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no TLS on %s: %v; haproxy: %s", addr, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tlsGet sends one raw GET target over TLS to addr with the test token and returns the status
// and what the upstreams received.
func tlsGet(t *testing.T, h *dataplane.Harness, addr string, cfg *tls.Config, target string) (int, []dataplane.Request) {
	t.Helper()
	h.Take()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, cfg)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.SetDeadline(time.Now().Add(5*time.Second)))
	_, err = io.WriteString(c, dataplane.Raw("GET", target, addr, "Authorization: "+dataplane.TestToken, "Connection: close"))
	require.NoError(t, err)
	line, err := bufio.NewReader(c).ReadString('\n')
	require.NoError(t, err, target)
	f := strings.Fields(line)
	require.GreaterOrEqual(t, len(f), 2, line)
	status, err := strconv.Atoi(f[1])
	require.NoError(t, err, line)
	time.Sleep(50 * time.Millisecond) // let the upstream record what it got
	return status, h.Take()
}
