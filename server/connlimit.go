package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
)

// connLimitListener caps the connections the webhook server holds open: at most max in all and
// at most perPeer from one remote IP address.
//
// At a cap the new connection is not refused: the server closes the connection that holds the
// least, one that is not in the middle of a request. Such a connection has not yet completed its
// TLS handshake and first request's headers (http.StateNew), or is kept alive between requests
// (http.StateIdle): closing it loses nothing a client cannot redo. Over the per-peer cap that is
// the peer's own oldest such connection; over the global cap it is the oldest such connection of
// the peer that holds the most connections, so that a few addresses that fill the cap with
// stalled handshakes or idle keep-alives lose their own connections to a newcomer, and a peer
// that holds few (the API servers) keeps its. Only when every candidate is in the middle of a
// request (bounded by the in-flight slots, BodyTimeout, ReadTimeout and WriteTimeout) is the new
// connection closed as soon as it is accepted. Both are counted in
// metrics_proxy_webhook_rejected_total{reason="connections"} (refused) and
// {reason="connections-evicted"} (closed to make room).
//
// Why caps at all: each open connection costs the server its TLS and bufio buffers (some 40 KiB)
// and, while a small review's body is read, up to SmallReviewBytes; max bounds that total.
// perPeer keeps one address from holding every connection, so that eviction always finds the
// heaviest peer's own connections first.
type connLimitListener struct {
	net.Listener
	max, perPeer int
	logger       logr.Logger

	mu     sync.Mutex
	conns  map[*limitedConn]struct{}
	byPeer map[string]int
}

func newConnLimitListener(l net.Listener, maxConns, perPeer int, logger logr.Logger) *connLimitListener {
	return &connLimitListener{Listener: l, max: maxConns, perPeer: perPeer, logger: logger,
		conns: map[*limitedConn]struct{}{}, byPeer: map[string]int{}}
}

// Accept returns the next connection within the caps, evicting an idle or new one to make room,
// or closing the new one when there is none.
func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &limitedConn{Conn: c, peer: peerOf(c), accepted: time.Now(), state: http.StateNew}
		lc.release = func() { l.release(lc) }
		ok, victim := l.take(lc)
		if victim != nil {
			rejectedReviews.WithLabelValues("connections-evicted").Inc()
			l.logger.V(1).Info("connection closed to make room", "remote", victim.RemoteAddr().String(),
				"for", c.RemoteAddr().String(), "maxConnections", l.max, "maxConnectionsPerPeer", l.perPeer)
			_ = victim.Close()
		}
		if ok {
			return lc, nil
		}
		rejectedReviews.WithLabelValues("connections").Inc()
		l.logger.V(1).Info("connection refused: every open connection is in a request", "remote", c.RemoteAddr().String(),
			"maxConnections", l.max, "maxConnectionsPerPeer", l.perPeer)
		_ = c.Close()
	}
}

// take counts lc in, with the connection to close first to make room (nil if none is needed),
// or reports false when there is no room and nothing to evict.
func (l *connLimitListener) take(lc *limitedConn) (bool, *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var victim *limitedConn
	switch {
	case l.byPeer[lc.peer] >= l.perPeer:
		victim = l.victim(lc.peer)
	case len(l.conns) >= l.max:
		victim = l.victim("")
	}
	if (l.byPeer[lc.peer] >= l.perPeer || len(l.conns) >= l.max) && victim == nil {
		return false, nil
	}
	if victim != nil {
		// Counted out now, so that the room is the newcomer's even before the victim's Close.
		l.forget(victim)
	}
	l.conns[lc] = struct{}{}
	l.byPeer[lc.peer]++
	openConnections.Inc()
	return true, victim
}

// victim is the oldest connection not in a request, of peer or, when peer is empty, of the peer
// holding the most connections that has one; nil if there is none. l.mu is held.
func (l *connLimitListener) victim(peer string) *limitedConn {
	var best *limitedConn
	for c := range l.conns {
		if (peer != "" && c.peer != peer) || (c.state != http.StateNew && c.state != http.StateIdle) {
			continue
		}
		if best == nil {
			best = c
			continue
		}
		if n, m := l.byPeer[c.peer], l.byPeer[best.peer]; n > m || (n == m && c.accepted.Before(best.accepted)) {
			best = c
		}
	}
	return best
}

// connState records the http.Server's view of a connection; set it as http.Server.ConnState.
func (l *connLimitListener) connState(c net.Conn, state http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lc.state = state
}

func (l *connLimitListener) release(lc *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forget(lc)
}

// forget counts lc out, once. l.mu is held.
func (l *connLimitListener) forget(lc *limitedConn) {
	if _, ok := l.conns[lc]; !ok {
		return
	}
	delete(l.conns, lc)
	if l.byPeer[lc.peer]--; l.byPeer[lc.peer] <= 0 {
		delete(l.byPeer, lc.peer)
	}
	openConnections.Dec()
}

// peerOf is the remote IP address of c (the whole address when it has no port).
func peerOf(c net.Conn) string {
	addr := c.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// limitedConn is a connection counted by a connLimitListener; it gives its room back once, on
// the first Close.
type limitedConn struct {
	net.Conn
	peer     string
	accepted time.Time
	state    http.ConnState // guarded by the listener's mu
	once     sync.Once
	release  func()
}

// Close implements net.Conn.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
