package dataplane

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/metrics-proxy/injector/webhook/components"
)

// UpstreamAddr is the address every test upstream listens on, as the real components do (and
// [::1] when the host has IPv6).
const UpstreamAddr = "127.0.0.1"

// Spec names a test upstream: what it pretends to be, its port on 127.0.0.1, and whether it
// serves HTTPS (with a self-signed certificate made in-process).
type Spec struct {
	// Name is the component or service the upstream stands for, as in Request.Upstream.
	Name string
	// Port is its port on 127.0.0.1.
	Port int
	// TLS makes it serve HTTPS.
	TLS bool
}

// Components returns the Specs of the four components of webhook/components.
func Components() []Spec {
	var specs []Spec
	for _, c := range components.All() {
		specs = append(specs, Spec{Name: c.Name, Port: int(c.Port), TLS: c.TLS})
	}
	return specs
}

// Neighbours returns Specs for node services a proxy must never reach: the kubelet (10250) and
// etcd's client port (2379), both HTTPS as on a kubeadm node.
func Neighbours() []Spec {
	return []Spec{{Name: "kubelet", Port: 10250, TLS: true}, {Name: "etcd-client", Port: 2379, TLS: true}}
}

// Request is what an upstream received.
type Request struct {
	// Upstream is the Spec name of the upstream that received it.
	Upstream string
	// Method and URI are the request line's method and target exactly as received.
	Method, URI string
	// Authorization is the Authorization header ("" when absent).
	Authorization string
	// Header holds every header as received.
	Header http.Header
}

// Upstream is a running test upstream. It records every request and answers 200 with the body
// "upstream NAME saw URI".
type Upstream struct {
	Spec
	srv *http.Server
	rec *recorder
}

// recorder is the log shared by every upstream of a Harness.
type recorder struct {
	mu   sync.Mutex
	reqs []Request
}

func (r *recorder) add(q Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, q)
}

func (r *recorder) take() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.reqs
	r.reqs = nil
	return out
}

// startUpstream listens on 127.0.0.1:spec.Port, and on [::1]:spec.Port when the host has IPv6
// (so that servers written localhost or ::1 reach it too). The sockets have SO_REUSEPORT, as
// HAProxy's do, so that a config binding the wildcard address (bind *:PORT) can still start
// beside them and the bypass it opens can be shown; a busy port is detected before, by
// connecting to it.
func startUpstream(spec Spec, rec *recorder, cert *tls.Certificate) (*Upstream, error) {
	port := strconv.Itoa(spec.Port)
	for _, host := range []string{UpstreamAddr, "::1"} {
		addr := net.JoinHostPort(host, port)
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			return nil, fmt.Errorf("upstream %s: port %s is busy, held by %s", spec.Name, addr, PortOwner(spec.Port))
		}
	}
	lc := net.ListenConfig{Control: reusePort}
	ln4, err := lc.Listen(context.Background(), "tcp4", net.JoinHostPort(UpstreamAddr, port))
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w (port held by %s)", spec.Name, err, PortOwner(spec.Port))
	}
	lns := []net.Listener{ln4}
	if ln6, err := lc.Listen(context.Background(), "tcp6", net.JoinHostPort("::1", port)); err == nil {
		lns = append(lns, ln6) // no IPv6 on the host: 127.0.0.1 only
	}
	u := &Upstream{Spec: spec, rec: rec}
	u.srv = &http.Server{
		Handler:           http.HandlerFunc(u.serve),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // health checks end TLS handshakes abruptly
	}
	if spec.TLS {
		u.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
	}
	for _, ln := range lns {
		if spec.TLS {
			ln = tls.NewListener(ln, u.srv.TLSConfig)
		}
		go func() { _ = u.srv.Serve(ln) }()
	}
	return u, nil
}

// reusePort sets SO_REUSEPORT on a listening socket (Linux only).
func reusePort(_, _ string, c syscall.RawConn) error {
	if soReusePort == 0 {
		return nil
	}
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soReusePort, 1)
	}); err != nil {
		return err
	}
	return serr
}

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	u.rec.add(Request{
		Upstream: u.Name, Method: r.Method, URI: r.RequestURI,
		Authorization: r.Header.Get("Authorization"), Header: r.Header.Clone(),
	})
	w.Header().Set("Content-Type", "text/plain")
	_, _ = fmt.Fprintf(w, "upstream %s saw %s", u.Name, r.RequestURI)
}

// close stops the upstream, waiting at most a second for requests in flight.
func (u *Upstream) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := u.srv.Shutdown(ctx); err != nil {
		_ = u.srv.Close()
	}
}

// selfSigned makes a short-lived ECDSA certificate for 127.0.0.1 and localhost.
func selfSigned() (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "metrics-proxy test upstream"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP(UpstreamAddr)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
