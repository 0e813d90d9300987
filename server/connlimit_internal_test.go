package server

import (
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnLimitEviction: at a cap the listener closes the oldest idle or new connection (of the
// same peer over the per-peer cap, of the peer holding the most over the global cap) and keeps
// the newcomer; with every candidate in a request it closes the newcomer instead.
func TestConnLimitEviction(t *testing.T) {
	const a, b, c = "127.0.0.2", "127.0.0.3", "127.0.0.4"
	tests := []struct {
		name      string
		existing  []string         // peers of the open connections, oldest first
		states    []http.ConnState // their states
		newcomer  string
		evicted   int // index in existing, -1 for none
		refused   bool
		max, peer int
	}{
		{name: "room: nothing closed", existing: []string{a}, states: []http.ConnState{http.StateIdle},
			newcomer: b, evicted: -1, max: 3, peer: 3},
		{name: "global cap: the heaviest peer's oldest", existing: []string{b, a, a}, states: []http.ConnState{http.StateIdle, http.StateNew, http.StateIdle},
			newcomer: c, evicted: 1, max: 3, peer: 3},
		{name: "global cap: active ones are kept", existing: []string{a, a, b}, states: []http.ConnState{http.StateActive, http.StateActive, http.StateNew},
			newcomer: c, evicted: 2, max: 3, peer: 3},
		{name: "per-peer cap: the peer's own oldest", existing: []string{a, b, b}, states: []http.ConnState{http.StateIdle, http.StateActive, http.StateIdle},
			newcomer: b, evicted: 2, max: 5, peer: 2},
		{name: "per-peer cap, all in a request: refused", existing: []string{a, b, b}, states: []http.ConnState{http.StateIdle, http.StateActive, http.StateActive},
			newcomer: b, evicted: -1, refused: true, max: 5, peer: 2},
		{name: "global cap, all in a request: refused", existing: []string{a, b}, states: []http.ConnState{http.StateActive, http.StateActive},
			newcomer: c, evicted: -1, refused: true, max: 2, peer: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			l := newConnLimitListener(inner, tt.max, tt.peer, logr.Discard())
			t.Cleanup(func() { l.Close() })
			dial := func(peer string) net.Conn {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(peer)}, Timeout: 2 * time.Second}
				conn, err := d.Dial("tcp", inner.Addr().String())
				require.NoError(t, err)
				t.Cleanup(func() { conn.Close() })
				return conn
			}
			clients := make([]net.Conn, len(tt.existing))
			for i, peer := range tt.existing {
				clients[i] = dial(peer)
				sc, err := l.Accept()
				require.NoError(t, err)
				l.connState(sc, tt.states[i])
				time.Sleep(2 * time.Millisecond) // distinct accept times
			}
			newcomer := dial(tt.newcomer)
			if tt.refused {
				// Accept closes the newcomer and waits for the next one, until the cleanup.
				go func() { _, _ = l.Accept() }()
			} else {
				sc, err := l.Accept()
				require.NoError(t, err)
				assert.Equal(t, tt.newcomer, peerOf(sc))
			}
			for i, cl := range clients {
				assert.Equal(t, i == tt.evicted, closedByServer(t, cl), "connection %d (%s, %s)", i, tt.existing[i], tt.states[i])
			}
			if tt.refused {
				assert.True(t, closedByServer(t, newcomer), "the newcomer was not refused")
			}
		})
	}
}

// closedByServer reports whether the server closed conn (a read ends at once rather than
// timing out).
func closedByServer(t *testing.T, conn net.Conn) bool {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(500*time.Millisecond)))
	_, err := conn.Read(make([]byte, 1))
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}
