package server_test

import (
	"io"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// forwarder is a TCP forwarder on loopback that can blackhole the traffic: connections stay open
// and new ones are accepted, but no byte moves in either direction until restore. It is what an
// unreachable API server looks like (no refusal, no reset), unlike a stopped one.
type forwarder struct {
	addr string
	l    net.Listener

	mu    sync.Mutex
	open  chan struct{} // closed while traffic flows
	conns []net.Conn
}

// newForwarder forwards a loopback port to target until the test ends.
func newForwarder(t *testing.T, target string) *forwarder {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &forwarder{addr: l.Addr().String(), l: l, open: make(chan struct{})}
	close(f.open)
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, in, out)
			f.mu.Unlock()
			go f.pipe(in, out)
			go f.pipe(out, in)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		f.restore()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.conns {
			c.Close()
		}
	})
	return f
}

// pipe copies src to dst, holding each chunk while the forwarder blackholes.
func (f *forwarder) pipe(src, dst net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		f.wait()
		n, err := src.Read(buf)
		if n > 0 {
			f.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

func (f *forwarder) wait() {
	f.mu.Lock()
	open := f.open
	f.mu.Unlock()
	<-open
}

// blackhole stops every byte.
func (f *forwarder) blackhole() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.open:
		f.open = make(chan struct{})
	default:
	}
}

// restore lets the traffic flow again.
func (f *forwarder) restore() {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-f.open:
	default:
		close(f.open)
	}
}
