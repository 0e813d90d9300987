package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/admission"
)

// Connection starvation (found by the red team): the connection caps used to refuse the newest
// connection, so ceil(512/128) = 4 addresses could hold every connection for as long as they
// liked, with or without --client-ca-file: with idle kept-alive connections (one request each,
// then 60 s of IdleTimeout, renewed by one cheap request a minute), or with connections that never
// send a ClientHello, redialled as soon as the 5 s handshake deadline closed them. The API server
// got no connection, every review failed, and failurePolicy Fail denied every write in the
// webhooks' selection.
//
// Now, at a cap, the server closes a connection that is idle or has not completed its handshake
// and first request (of the peer holding the most) to make room for the new one, and refuses a
// connection only when every candidate is in the middle of a request (see connLimitListener).

// attackers are the loopback addresses the attack comes from: enough to fill the global cap.
func attackers() []net.IP {
	n := (server.DefaultMaxConnections + server.DefaultMaxConnectionsPerPeer - 1) / server.DefaultMaxConnectionsPerPeer
	ips := make([]net.IP, n)
	for i := range ips {
		ips[i] = net.IPv4(127, 0, 0, byte(2+i))
	}
	return ips
}

func dialFrom(ip net.IP, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 2 * time.Second}
	return d.Dial("tcp", addr)
}

// apiServerTries sends reviews as the API server would (a fresh connection each) during window,
// every 200 ms, and returns how many were answered and how many tried.
func apiServerTries(c *http.Client, addr string, window time.Duration) (ok, tried int, lastErr error) {
	c.Transport.(*http.Transport).DisableKeepAlives = true
	c.Timeout = 3 * time.Second
	deadline := time.Now().Add(window)
	for time.Now().Before(deadline) {
		tried++
		resp, err := c.Post("https://"+addr+admission.ValidateConfigMapPath, "application/json", nil)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok++
		} else {
			lastErr = err
		}
		time.Sleep(200 * time.Millisecond)
	}
	return ok, tried, lastErr
}

// holdIdle opens n connections from ip, completes one request on each and keeps them idle until
// the test ends.
func holdIdle(t *testing.T, r *running, ip net.IP, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		raw, err := dialFrom(ip, r.addr)
		require.NoError(t, err)
		t.Cleanup(func() { raw.Close() })
		conn := tls.Client(raw, &tls.Config{RootCAs: r.roots, ServerName: "127.0.0.1"})
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, err = fmt.Fprintf(conn, "GET /anything HTTP/1.1\r\nHost: %s\r\n\r\n", r.addr)
		require.NoError(t, err, "attacker %s connection %d", ip, i)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err, "attacker %s connection %d", ip, i)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		_ = conn.SetDeadline(time.Time{})
	}
}

// TestHostNetworkPodBesideTheAPIServerDoesNotStarveIt: the per-peer cap and a NetworkPolicy
// ipBlock both key on the remote address. On a kubeadm-style control plane the API server is a
// static pod on the host network and reaches the webhook from its node's address, which a
// hostNetwork pod on that node shares (this product's tenants may run such pods). One such pod
// holding 128 idle connections used to take every connection the API server of its node could
// have; now the API server's new connection evicts the pod's oldest idle one.
func TestHostNetworkPodBesideTheAPIServerDoesNotStarveIt(t *testing.T) {
	needControlPlane(t)
	r := startServer(t, cfg, "", nil)
	holdIdle(t, r, net.IPv4(127, 0, 0, 1), server.DefaultMaxConnectionsPerPeer) // the API server's node address
	ok, tried, err := apiServerTries(r.client(nil), r.addr, 2*time.Second)
	t.Logf("API server's reviews answered beside one co-located pod: %d of %d (last error: %v)", ok, tried, err)
	assert.Equal(t, tried, ok, "one hostNetwork pod on the API server's node takes all of its connections")
}

// TestIdleKeepAlivesDoNotStarveTheAPIServer: 4 addresses complete one request on 128
// connections each and keep them idle; 6 s later the API server's reviews (a fresh connection
// each) are all answered: each evicts an idle connection.
func TestIdleKeepAlivesDoNotStarveTheAPIServer(t *testing.T) {
	needControlPlane(t)
	r := startServer(t, cfg, "", nil)
	for _, ip := range attackers() {
		holdIdle(t, r, ip, server.DefaultMaxConnectionsPerPeer)
	}
	t.Logf("%d idle kept-alive connections from %d addresses", server.DefaultMaxConnections, len(attackers()))
	time.Sleep(server.ReadHeaderTimeout + time.Second) // past "each connection for at most 5 s"
	ok, tried, err := apiServerTries(r.client(nil), r.addr, 3*time.Second)
	t.Logf("API server's reviews answered: %d of %d (last error: %v)", ok, tried, err)
	assert.Equal(t, tried, ok, "idle kept-alive connections from %d pods starve the API server past 5 s: every review fails, failurePolicy Fail denies every write in the selection", len(attackers()))
}

// TestStalledHandshakesDoNotStarveTheAPIServer: with --client-ca-file, 4 addresses keep 128
// connections each in the handshake, redialling each one the server closes; the API server, with
// its valid client certificate, still gets (nearly) every review through: its connection evicts
// one of theirs, and their redials evict their own (the peers holding the most).
func TestStalledHandshakesDoNotStarveTheAPIServer(t *testing.T) {
	needControlPlane(t)
	caCert, caKey := newCA(t, "api-server-client-ca")
	file := filepath.Join(t.TempDir(), "client-ca.crt")
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}), 0o600))
	r := startServer(t, cfg, "", func(o *server.Options) { o.ClientCAFile = file })
	signed := clientCert(t, caCert, caKey)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second) // bounds the attack
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	var mu sync.Mutex
	dials := 0
	for _, ip := range attackers() {
		for i := 0; i < server.DefaultMaxConnectionsPerPeer; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					conn, err := dialFrom(ip, r.addr)
					if err != nil {
						time.Sleep(10 * time.Millisecond)
						continue
					}
					mu.Lock()
					dials++
					mu.Unlock()
					stop := context.AfterFunc(ctx, func() { conn.Close() })
					_, _ = conn.Read(make([]byte, 1)) // until the server gives up on the handshake
					stop()
					conn.Close()
				}
			}()
		}
	}
	time.Sleep(time.Second) // the caps fill
	ok, tried, err := apiServerTries(r.client(func(c *tls.Config) { c.Certificates = []tls.Certificate{signed} }), r.addr, 8*time.Second)
	mu.Lock()
	t.Logf("attacker dials: %d; API server's reviews answered: %d of %d (last error: %v)", dials, ok, tried, err)
	mu.Unlock()
	assert.GreaterOrEqual(t, ok*10, tried*9, "stalled handshakes from %d pods starve the API server although a client CA is required", len(attackers()))
}
