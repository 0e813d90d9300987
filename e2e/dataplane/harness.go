package dataplane

import (
	"crypto/tls"
	"sync"
	"testing"
)

// Harness owns the component ports for one test: it holds the port lock (LockPorts) and runs a
// test upstream per Spec on 127.0.0.1. Proxies started with StartHAProxy forward to them. One
// Harness at a time per test binary; everything it starts stops in t.Cleanup.
type Harness struct {
	ups []*Upstream
	rec *recorder
	mu  sync.Mutex             // guards tls
	tls map[string]*tls.Config // addresses probed over TLS (UseTLS)
}

// New locks the component ports and starts the upstreams of specs (Components() when none are
// given). It fails the test, naming the process, when a port is busy.
func New(t testing.TB, specs ...Spec) *Harness {
	t.Helper()
	if len(specs) == 0 {
		specs = Components()
	}
	LockPorts(t)
	cert, err := selfSigned()
	if err != nil {
		t.Fatalf("upstream certificate: %v", err)
	}
	h := &Harness{rec: &recorder{}}
	t.Cleanup(func() {
		for _, u := range h.ups {
			u.close()
		}
	})
	for _, spec := range specs {
		u, err := startUpstream(spec, h.rec, cert)
		if err != nil {
			t.Fatal(err)
		}
		h.ups = append(h.ups, u)
	}
	return h
}

// Upstreams returns the running upstreams, in the order of their Specs.
func (h *Harness) Upstreams() []*Upstream { return append([]*Upstream(nil), h.ups...) }

// Take returns every request the upstreams received since the last Take, and forgets them.
func (h *Harness) Take() []Request { return h.rec.take() }

// StartHAProxy runs haproxy on cfg (see Options), stopped in t.Cleanup: pass a subtest's t to
// stop it at the subtest's end. It fails t when haproxy does not start.
func (h *Harness) StartHAProxy(t testing.TB, cfg string, opts Options) *HAProxy {
	t.Helper()
	return startHAProxy(t, cfg, opts)
}

// Exchange sends the raw request to addr (see Send) and returns the response together with
// what the upstreams received meanwhile. Requests that reached the upstreams earlier are
// dropped first.
func (h *Harness) Exchange(addr, raw string) (*Response, []Request, error) {
	h.rec.take()
	resp, err := send(addr, raw, dialer(h.TLSConfig(addr)))
	return resp, h.rec.take(), err
}
