package server_test

import (
	"bufio"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/admission"
)

// TestSlowBodiesDoNotStarveReviews: a pod that reaches the port opens more connections than there
// are small-review slots and announces a small body it never sends. Before the fix each of them
// took a slot before its body was read and held it for the 10 s read deadline: every review the
// API server sent (all small) got 429, which failurePolicy Fail turns into a denial of every proxy
// write in the cluster. A small body is now read before a slot is taken, within BodyTimeout.
func TestSlowBodiesDoNotStarveReviews(t *testing.T) {
	needControlPlane(t)
	r := startServer(t, cfg, "", nil)
	c := r.client(nil)
	n := server.DefaultMaxInFlight*server.SmallReviewShare + 1
	refused := r.metricValue(t, `metrics_proxy_webhook_rejected_total{reason="in-flight"}`)
	var first *bufio.Reader
	for i := 0; i < n; i++ {
		conn := r.rawRequest(t, admission.ValidateConfigMapPath, 1000) // closed when the test ends
		if i == 0 {
			first = bufio.NewReader(conn)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(3*server.BodyTimeout+5*time.Second)))
		}
	}
	require.Eventually(t, func() bool {
		// Process-wide: the connections of servers stopped just before may not all be closed yet.
		return r.metricValue(t, "metrics_proxy_webhook_connections") >= float64(n)
	}, 5*time.Second, 50*time.Millisecond, "the server never held the connections")
	status, body := r.post(t, c, admission.ValidateConfigMapPath, "{}")
	t.Logf("a review beside %d connections that never send their body: %d %.80s", n, status, body)
	assert.NotEqual(t, http.StatusTooManyRequests, status)
	assert.NotContains(t, body, "too many", "a handful of idle connections refuses every review")
	assert.Equal(t, refused, r.metricValue(t, `metrics_proxy_webhook_rejected_total{reason="in-flight"}`), "an idle connection took a slot")

	// The server gives up on a body that does not come: 408, and the connection is closed.
	resp, err := http.ReadResponse(first, nil)
	require.NoError(t, err, "no answer to a request whose body never came")
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	assert.Positive(t, r.metricValue(t, `metrics_proxy_webhook_rejected_total{reason="slow-body"}`))
}

// TestConnectionsPerPeerAreCapped: one address holds at most MaxConnectionsPerPeer connections;
// with every one of them in a request (body announced, not sent) there is nothing to evict and one
// more is closed at once (before the TLS handshake), and a slot given back is usable again.
func TestConnectionsPerPeerAreCapped(t *testing.T) {
	needControlPlane(t)
	const perPeer = 4
	r := startServer(t, cfg, "", func(o *server.Options) { o.MaxConnectionsPerPeer = perPeer })
	before := r.metricValue(t, `metrics_proxy_webhook_rejected_total{reason="connections"}`)
	conns := make([]interface{ Close() error }, 0, perPeer)
	for i := 0; i < perPeer; i++ {
		conns = append(conns, r.rawRequest(t, admission.ValidateConfigMapPath, 1000))
	}
	// Until the server has read their headers they are new, not in a request, and would be
	// evicted for the next one; their body is then awaited for BodyTimeout.
	time.Sleep(300 * time.Millisecond)
	c := r.client(nil)
	c.Transport.(*http.Transport).DisableKeepAlives = true
	_, err := c.Post("https://"+r.addr+admission.ValidateConfigMapPath, "application/json", nil)
	require.Error(t, err, "a connection over the per-peer cap was served")
	after := r.metricValue(t, `metrics_proxy_webhook_rejected_total{reason="connections"}`)
	t.Logf("connections refused over a cap of %d per peer: %s", perPeer, strconv.FormatFloat(after-before, 'f', 0, 64))
	assert.Positive(t, after-before)

	require.NoError(t, conns[0].Close())
	require.Eventually(t, func() bool {
		resp, err := c.Post("https://"+r.addr+admission.ValidateConfigMapPath, "application/json", nil)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	}, 5*time.Second, 100*time.Millisecond, "a connection given back is not usable again")
}
