package server_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"

	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/admission"
)

// TestWebhookTLS: over real TLS, the server speaks TLS 1.2 with AEAD suites or TLS 1.3, and
// HTTP/1.1 only.
func TestWebhookTLS(t *testing.T) {
	needControlPlane(t)
	r := startServer(t, cfg, "", nil)
	tests := []struct {
		name  string
		tweak func(*tls.Config)
		ok    bool
	}{
		{"TLS 1.3", func(c *tls.Config) { c.MinVersion = tls.VersionTLS13 }, true},
		{"TLS 1.2 with AES-GCM", func(c *tls.Config) {
			c.MaxVersion, c.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
		}, true},
		{"TLS 1.2 with CBC and SHA-1 only", func(c *tls.Config) {
			c.MaxVersion, c.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
		}, false},
		{"TLS 1.2 with RSA key exchange only", func(c *tls.Config) {
			c.MaxVersion, c.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
		}, false},
		{"TLS 1.1", func(c *tls.Config) { c.MinVersion, c.MaxVersion = tls.VersionTLS10, tls.VersionTLS11 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &tls.Config{RootCAs: r.roots, NextProtos: []string{"h2", "http/1.1"}}
			tt.tweak(c)
			conn, err := tls.Dial("tcp", r.addr, c)
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			defer conn.Close()
			assert.Equal(t, "http/1.1", conn.ConnectionState().NegotiatedProtocol, "never h2")
		})
	}
	t.Run("an HTTP/2-only client gets no HTTP/2", func(t *testing.T) {
		conn, err := tls.Dial("tcp", r.addr, &tls.Config{RootCAs: r.roots, NextProtos: []string{"h2"}})
		if err == nil {
			defer conn.Close()
			assert.NotEqual(t, "h2", conn.ConnectionState().NegotiatedProtocol)
		}
	})
	t.Run("an HTTP client that prefers HTTP/2 speaks HTTP/1.1", func(t *testing.T) {
		resp, err := r.client(nil).Post("https://"+r.addr+admission.ValidateConfigMapPath, "application/json", strings.NewReader("{}"))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 1, resp.ProtoMajor)
	})
}

// TestMalformedReviews: a review the API server would never send is answered with an error on
// every path, never allowed.
func TestMalformedReviews(t *testing.T) {
	needControlPlane(t)
	r := startServer(t, cfg, "", nil)
	c := r.client(nil)
	paths := []string{admission.MutateDaemonSetPath, admission.MutateConfigMapPath, admission.ValidateDaemonSetPath, admission.ValidateConfigMapPath}
	review := func(kind, op, uid string) string {
		group := ""
		if kind == "DaemonSet" {
			group = "apps"
		}
		return `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"` + uid + `",` +
			`"kind":{"group":"` + group + `","version":"v1","kind":"` + kind + `"},"operation":"` + op + `","namespace":"n","name":"p",` +
			`"object":{"metadata":{"name":"p","labels":{"metrics-proxy.io/config":"haproxy","metrics-proxy.io/inject":"true"}},` +
			`"data":{"haproxy.cfg":"listen l\n"},"spec":{"template":{"spec":{"containers":[]}}}}}}`
	}
	bodies := map[string]func(path string) string{
		"an empty object": func(string) string { return "{}" },
		"a review without request": func(string) string {
			return `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`
		},
		"a request without uid": func(path string) string {
			if strings.Contains(path, "daemonset") {
				return review("DaemonSet", "CREATE", "")
			}
			return review("ConfigMap", "CREATE", "")
		},
		"another kind on the path": func(path string) string {
			if strings.Contains(path, "daemonset") {
				return review("ConfigMap", "CREATE", "u1")
			}
			return review("DaemonSet", "CREATE", "u1")
		},
		"not JSON": func(string) string { return "{" },
	}
	for name, body := range bodies {
		for _, path := range paths {
			t.Run(name+" on "+path, func(t *testing.T) {
				status, out := r.post(t, c, path, body(path))
				require.Equal(t, http.StatusOK, status, out)
				var ar admissionv1.AdmissionReview
				require.NoError(t, json.Unmarshal([]byte(out), &ar), out)
				require.NotNil(t, ar.Response, out)
				assert.False(t, ar.Response.Allowed, "never allowed: %s", out)
				require.NotNil(t, ar.Response.Result, out)
				assert.Equal(t, int32(http.StatusBadRequest), ar.Response.Result.Code, out)
			})
		}
	}
}

// TestSlowClients: a client that sends its headers or its body slowly is cut off by the server's
// deadlines instead of holding a connection and a buffer for as long as it likes.
func TestSlowClients(t *testing.T) {
	needControlPlane(t)
	r := startServer(t, cfg, "", nil)
	tests := []struct {
		name string
		head bool // trickle the headers instead of the body
	}{{"slow headers", true}, {"slow body", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const total = 60 // one byte every 500 ms: 30 s, three times the read deadline
			var conn interface {
				Write([]byte) (int, error)
				Read([]byte) (int, error)
			}
			if tt.head {
				c, err := tls.Dial("tcp", r.addr, &tls.Config{RootCAs: r.roots})
				require.NoError(t, err)
				defer c.Close()
				conn = c
			} else {
				conn = r.rawRequest(t, admission.ValidateConfigMapPath, total)
			}
			closed := make(chan struct{})
			go func() { // the server's answer or its close ends the read
				_, _ = io.Copy(io.Discard, readerFunc(conn.Read))
				close(closed)
			}()
			sent := 0
			for ; sent < total; sent++ {
				select {
				case <-closed:
				case <-time.After(500 * time.Millisecond):
					b := []byte("x")
					if tt.head {
						b = []byte("POST /x HTTP/1.1\r\nX: ")[sent%21 : sent%21+1]
					}
					if _, err := conn.Write(b); err == nil {
						continue
					}
				}
				break
			}
			assert.Less(t, sent, total, "the server never cut the slow client off")
		})
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// TestInFlightBound: beyond MaxInFlight large reviews at once, one more is refused quickly with
// 429 and a message that says why (as a denial the API server shows, when the review's uid comes
// first as the API server writes it), and counted; small reviews, such as a proxy's, still get
// through; once the slots free up, large reviews are answered again.
func TestInFlightBound(t *testing.T) {
	needControlPlane(t)
	r := startServer(t, cfg, "", func(o *server.Options) { o.MaxInFlight = 2 })
	c := r.client(nil)
	refused := r.metricValue(t, `metrics_proxy_webhook_rejected_total{reason="in-flight"}`) // process-wide
	// Two large requests whose bodies never come hold both large slots (the handler reads them).
	held := []interface{ Close() error }{
		r.rawRequest(t, admission.ValidateConfigMapPath, server.SmallReviewBytes+1),
		r.rawRequest(t, admission.ValidateDaemonSetPath, server.SmallReviewBytes+1),
	}
	require.Eventually(t, func() bool {
		return r.metricValue(t, "controller_runtime_webhook_requests_in_flight") == 2
	}, 30*time.Second, 50*time.Millisecond, "the two held requests never took their slots")

	large := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"0d2c4b1e-1111-2222-3333-444455556666",` +
		`"kind":{"group":"","version":"v1","kind":"ConfigMap"},"operation":"CREATE","object":{"data":{"a":"` +
		strings.Repeat("x", server.SmallReviewBytes) + `"}}}}`
	status, body := r.post(t, c, admission.ValidateConfigMapPath, large)
	require.Equal(t, http.StatusOK, status, body)
	var ar admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal([]byte(body), &ar), body)
	require.NotNil(t, ar.Response)
	assert.Equal(t, "0d2c4b1e-1111-2222-3333-444455556666", string(ar.Response.UID))
	assert.False(t, ar.Response.Allowed)
	assert.Equal(t, int32(http.StatusTooManyRequests), ar.Response.Result.Code)
	assert.Equal(t, "metrics-proxy: too many large admission reviews in flight (at most 2); retry", ar.Response.Result.Message)

	status, body = r.post(t, c, admission.ValidateConfigMapPath, strings.Repeat(" ", server.SmallReviewBytes)+"{}")
	assert.Equal(t, http.StatusTooManyRequests, status, "no uid to answer: a plain 429")
	assert.Contains(t, body, "too many large admission reviews in flight")
	assert.Equal(t, refused+2, r.metricValue(t, `metrics_proxy_webhook_rejected_total{reason="in-flight"}`))

	status, body = r.post(t, c, admission.ValidateConfigMapPath, "{}")
	assert.Equal(t, http.StatusOK, status, "a small review is answered meanwhile: %s", body)

	for _, h := range held {
		require.NoError(t, h.Close())
	}
	require.Eventually(t, func() bool {
		status, body := r.post(t, c, admission.ValidateConfigMapPath, large)
		return status == http.StatusOK && !strings.Contains(body, "too many")
	}, 30*time.Second, 100*time.Millisecond, "the slots never freed up")
}

// TestOversizedReview: a body beyond MaxReviewBytes is not read to its end and gets an error.
func TestOversizedReview(t *testing.T) {
	needControlPlane(t)
	r := startServer(t, cfg, "", nil)
	status, body := r.post(t, r.client(nil), admission.MutateDaemonSetPath, `{"request":{"uid":"u","object":{"a":"`+strings.Repeat("x", server.MaxReviewBytes)+`"}}}`)
	require.Equal(t, http.StatusOK, status, body)
	var ar admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal([]byte(body), &ar), body)
	assert.False(t, ar.Response.Allowed)
	assert.Equal(t, int32(http.StatusBadRequest), ar.Response.Result.Code, body)
}

// TestParallelReviewsWithinBound: more reviews than slots, sent at once, are all answered when
// each is quick: a review waits for a slot before it is refused.
func TestParallelReviewsWithinBound(t *testing.T) {
	needControlPlane(t)
	r := startServer(t, cfg, "", func(o *server.Options) { o.MaxInFlight = 2 })
	c := r.client(nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			resp, err := c.Post("https://"+r.addr+admission.ValidateConfigMapPath, "application/json", strings.NewReader("{}"))
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- errors.New(resp.Status)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
