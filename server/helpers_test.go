package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/inject"
)

// running is a webhook server started by startServer.
type running struct {
	addr, probes, metrics string
	// caPEM signs the serving certificate; roots trusts it.
	caPEM []byte
	roots *x509.CertPool
}

// needControlPlane skips (outside CI) or fails (in CI) when TestMain found no control plane.
func needControlPlane(t *testing.T) {
	t.Helper()
	if cfg == nil {
		testtool.Missing(t, noControlPlane.Error())
	}
}

// startServer runs server.New against restCfg with a fresh serving certificate for 127.0.0.1, the
// options adjusted by adjust, until the test ends; it returns once /readyz says ready.
func startServer(t *testing.T, restCfg *rest.Config, policy string, adjust func(*server.Options)) *running {
	t.Helper()
	r := startServerNoWait(t, restCfg, policy, adjust)
	require.NoError(t, harness.WaitReady(context.Background(), "http://"+r.probes+"/readyz", 30*time.Second, nil))
	return r
}

// startServerNoWait is startServer without waiting for readiness.
func startServerNoWait(t *testing.T, restCfg *rest.Config, policy string, adjust func(*server.Options)) *running {
	t.Helper()
	dir := t.TempDir()
	cert, key, err := certutil.GenerateSelfSignedCertKey("localhost", []net.IP{net.ParseIP("127.0.0.1")}, nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, certs.CertFile), cert, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, certs.KeyFile), key, 0o600))
	policyFile := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte("apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\n"+policy), 0o644))
	ports, err := harness.FreePorts("127.0.0.1", 3)
	require.NoError(t, err)
	r := &running{addr: "127.0.0.1:" + strconv.Itoa(ports[0]), probes: "127.0.0.1:" + strconv.Itoa(ports[1]),
		metrics: "127.0.0.1:" + strconv.Itoa(ports[2]), caPEM: cert, roots: x509.NewCertPool()}
	require.True(t, r.roots.AppendCertsFromPEM(cert))
	o := server.Options{Inject: inject.Config{Version: "server-test"}, Host: "127.0.0.1", Port: ports[0],
		Certs: &certs.Files{Dir: dir}, PolicyFile: policyFile, MetricsBindAddress: r.metrics,
		HealthProbeBindAddress: r.probes, Logger: logr.Discard()}
	if adjust != nil {
		adjust(&o)
	}
	mgr, err := server.New(restCfg, o)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	return r
}

// client is an HTTPS client of the server trusting its certificate; tweak adjusts the TLS config.
func (r *running) client(tweak func(*tls.Config)) *http.Client {
	c := &tls.Config{RootCAs: r.roots}
	if tweak != nil {
		tweak(c)
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: c, ForceAttemptHTTP2: true}}
}

// post sends body to path and returns the status and the response body.
func (r *running) post(t *testing.T, c *http.Client, path, body string) (int, string) {
	t.Helper()
	resp, err := c.Post("https://"+r.addr+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	require.NoError(t, err)
	return resp.StatusCode, string(data)
}

// get reads a plain-HTTP URL.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	require.NoError(t, err)
	return resp.StatusCode, string(data)
}

// metricValue sums the samples of a series prefix (name{labels...) in the server's /metrics.
func (r *running) metricValue(t *testing.T, prefix string) float64 {
	t.Helper()
	_, body := get(t, "http://"+r.metrics+"/metrics")
	sum := 0.0
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		require.NoError(t, err, line)
		sum += v
	}
	return sum
}

// rawRequest opens a TLS connection and writes the head of a POST of a body of length n; the
// caller writes the body (or not).
func (r *running) rawRequest(t *testing.T, path string, n int) *tls.Conn {
	t.Helper()
	conn, err := tls.Dial("tcp", r.addr, &tls.Config{RootCAs: r.roots})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	var head bytes.Buffer
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, r.addr, n)
	_, err = conn.Write(head.Bytes())
	require.NoError(t, err)
	return conn
}
