package policy_test

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/dataplane"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// absoluteFormDeny refuses absolute-form HTTP/1 requests; HTTP/2 requests, absolute inside
// HAProxy, reach the upstream in origin form and stay allowed.
const absoluteFormDeny = "  http-request deny if HTTP_URL_ABS !HTTP_2.0\n"

// TestAbsoluteFormDifferential shows on the real haproxy 2.6 that an absolute-form request
// whose authority holds a '?' passes "path /metrics" while the upstream reads another path, and
// that the deny rule the policy allows for it refuses it without refusing HTTP/2 scrapes.
func TestAbsoluteFormDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	dataplane.Binary(t)
	seed := string(readSeed(t))
	mitigated := strings.ReplaceAll(seed, deny, deny+absoluteFormDeny)
	require.NotEqual(t, seed, mitigated)
	h := dataplane.New(t, dataplane.Components()...)
	addr := net.JoinHostPort(dataplane.DefaultNodeIP, "10249")
	opts := dataplane.Options{}
	for _, p := range frontendPorts(seed) {
		opts.Wait = append(opts.Wait, net.JoinHostPort(dataplane.DefaultNodeIP, strconv.Itoa(p)))
	}
	// HTTP/1.0 needs no Host header; with HTTP/1.1, "Host: h?" does the same.
	requests := []string{"GET http://h?/metrics HTTP/1.0\r\n\r\n", "GET http://h?/metrics HTTP/1.1\r\nHost: h?\r\nConnection: close\r\n\r\n"}

	t.Run("seed", func(t *testing.T) {
		proxy := h.StartHAProxy(t, seed, opts)
		defer proxy.Stop()
		// The HTTP/1.1 form reaches the upstream too, whose Go server refuses "Host: h?" with a
		// 400; a Host-less HTTP/1.0 request reaches its handler.
		for _, raw := range requests[:1] {
			resp, seen, err := h.Exchange(addr, raw)
			require.NoError(t, err)
			assert.Equal(t, 200, resp.Status, "haproxy's path is /metrics: the deny lets it through")
			require.Len(t, seen, 1)
			u, err := url.ParseRequestURI(seen[0].URI)
			require.NoError(t, err)
			assert.Equal(t, "", u.Path, "the upstream reads an empty path (%s)", seen[0].URI)
			assert.Equal(t, "/metrics", u.RawQuery, "and /metrics as the query")
		}
	})

	t.Run("with the absolute-form deny", func(t *testing.T) {
		require.Empty(t, policy.ValidateConfig([]byte(mitigated), nil), "the policy accepts the deny")
		out, ok := dataplane.Check(t, mitigated, opts)
		require.True(t, ok, out)
		proxy := h.StartHAProxy(t, mitigated, opts)
		defer proxy.Stop()
		for _, raw := range requests {
			resp, seen, err := h.Exchange(addr, raw)
			require.NoError(t, err)
			assert.Equal(t, 403, resp.Status)
			assert.Empty(t, seen)
		}
		for _, a := range opts.Wait {
			checkCompliant(t, h, a, true) // GET /metrics still passes, over HTTP/1.1 and HTTP/2
		}
	})
}
