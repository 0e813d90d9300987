package server_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/admission"
)

// TestTricklingChunkedBodiesDoNotHoldTheLargeSlots (found by the red team): the 4 large-review
// slots were taken before the body was read, so 4 connections from one pod sending a chunked body
// one byte at a time held them for the 10 s read deadline, again and again, and every review over
// 64 KiB (any UPDATE of a DaemonSet of some 30 KiB: object and old object) was denied with 429.
// A body without Content-Length is now refused with 411 before it takes any slot (the API server
// always sends Content-Length).
func TestTricklingChunkedBodiesDoNotHoldTheLargeSlots(t *testing.T) {
	needControlPlane(t)
	r := startServer(t, cfg, "", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // bounds the attack
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	for i := 0; i < server.DefaultMaxInFlight; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				conn, err := tls.Dial("tcp", r.addr, &tls.Config{RootCAs: r.roots})
				if err != nil {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				stop := context.AfterFunc(ctx, func() { conn.Close() })
				_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
					admission.ValidateConfigMapPath, r.addr)
				for err == nil && ctx.Err() == nil {
					_, err = conn.Write([]byte("1\r\n \r\n"))
					time.Sleep(500 * time.Millisecond)
				}
				stop()
				conn.Close()
			}
		}()
	}
	time.Sleep(time.Second) // the slots are taken
	large := `{"pad":"` + strings.Repeat("x", 100<<10) + `"}`
	c := r.client(nil)
	refused, tried := 0, 5
	var last string
	for i := 0; i < tried; i++ {
		status, body := r.post(t, c, admission.ValidateConfigMapPath, large)
		if status == http.StatusTooManyRequests || strings.Contains(body, "too many") {
			refused++
			last = body
		}
	}
	t.Logf("100 KiB reviews refused beside 4 trickling chunked bodies: %d of %d (%.100s)", refused, tried, last)
	require.Positive(t, tried)
	assert.Zero(t, refused, "4 slow connections from one pod deny every large review")
}
