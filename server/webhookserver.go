package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// Bounds of the webhook server. A review is small and answered in milliseconds; anything slower
// is a client holding memory.
const (
	// ReadHeaderTimeout bounds the TLS handshake and the request headers.
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout = 10 * time.Second
	// WriteTimeout bounds a request from the end of its headers to the end of the response.
	WriteTimeout = 10 * time.Second
	// IdleTimeout closes a kept-alive connection with no request.
	IdleTimeout = 60 * time.Second
	// MaxHeaderBytes bounds the request headers.
	MaxHeaderBytes = 64 << 10
	// DefaultMaxInFlight is how many large reviews (over SmallReviewBytes) are processed at
	// once by default; small ones, such as every proxy DaemonSet and its config, get
	// SmallReviewShare times as many slots of their own, so that large ones never crowd them out.
	DefaultMaxInFlight = 4
	// SmallReviewBytes is the largest body of a small review (a proxy DaemonSet is about 5 KiB).
	SmallReviewBytes = 64 << 10
	// SmallReviewShare is how many more slots small reviews get than large ones.
	SmallReviewShare = 8
	// MaxReviewBytes is the largest body read: the API server sends at most an object and its old
	// version, each under its own request limit (a ConfigMap holds at most 1 MiB).
	MaxReviewBytes = 4 << 20
	// InFlightWait is how long a review waits for a slot before it is refused.
	InFlightWait = 1 * time.Second
	// BodyTimeout bounds reading a small review's body, from the end of its headers, before it
	// takes a slot. The API server sends the body with the headers.
	BodyTimeout = 2 * time.Second
	// DefaultMaxConnections is how many connections the webhook server holds open at most.
	DefaultMaxConnections = 512
	// DefaultMaxConnectionsPerPeer is how many of them one remote address may hold.
	DefaultMaxConnectionsPerPeer = 128
)

// cipherSuites are the TLS 1.2 suites offered: ECDHE with AEAD only (TLS 1.3 suites are not
// configurable and are all AEAD).
var cipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// webhookServer serves the registered webhooks over TLS with bounds controller-runtime's server
// does not set: TLS 1.2 with AEAD suites or TLS 1.3, HTTP/1.1 only, read and write deadlines, a
// bound on reviews in flight and, optionally, verification of the API server's client
// certificate. Registration (and its request metrics) is controller-runtime's.
type webhookServer struct {
	webhook.Server // Register, WebhookMux: controller-runtime's, so its webhook metrics stay

	host         string
	port         int
	getCert      func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	clientCAFile string
	// clientCAInterval is how often the client CA file is read again.
	clientCAInterval time.Duration
	slots            chan struct{} // large reviews
	smallSlots       chan struct{} // reviews of at most SmallReviewBytes
	maxConns         int           // connections open at once
	maxPeerConns     int           // of which from one remote address
	logger           logr.Logger
	started          atomic.Bool
}

// serverLimits are the bounds of newWebhookServer; zero values mean the defaults.
type serverLimits struct {
	maxInFlight, maxConns, maxPeerConns int
	clientCAInterval                    time.Duration
}

// newWebhookServer returns the server.
func newWebhookServer(host string, port int, getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error),
	clientCAFile string, limits serverLimits, logger logr.Logger) *webhookServer {
	orDefault := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	maxInFlight := orDefault(limits.maxInFlight, DefaultMaxInFlight)
	return &webhookServer{
		Server: webhook.NewServer(webhook.Options{Host: host, Port: port, WebhookMux: http.NewServeMux()}),
		host:   host, port: port, getCert: getCert, clientCAFile: clientCAFile,
		slots: make(chan struct{}, maxInFlight), smallSlots: make(chan struct{}, maxInFlight*SmallReviewShare),
		maxConns:         orDefault(limits.maxConns, DefaultMaxConnections),
		maxPeerConns:     orDefault(limits.maxPeerConns, DefaultMaxConnectionsPerPeer),
		clientCAInterval: time.Duration(orDefault(int(limits.clientCAInterval), int(DefaultClientCAInterval))),
		logger:           logger.WithName("webhook-server"),
	}
}

// tlsConfig is the server's TLS configuration and, with a client CA file, what keeps its CAs
// current (nil without one).
func (s *webhookServer) tlsConfig() (*tls.Config, *clientCA, error) {
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   cipherSuites,
		NextProtos:     []string{"http/1.1"},
		GetCertificate: s.getCert,
	}
	if s.clientCAFile == "" {
		return cfg, nil, nil
	}
	ca, err := newClientCA(s.clientCAFile, cfg)
	if err != nil {
		return nil, nil, err
	}
	outer := cfg.Clone()
	outer.GetConfigForClient = ca.GetConfigForClient
	return outer, ca, nil
}

// Start serves until ctx ends; it implements manager.Runnable.
func (s *webhookServer) Start(ctx context.Context) error {
	cfg, ca, err := s.tlsConfig()
	if err != nil {
		return err
	}
	if ca != nil {
		go ca.watch(ctx, s.clientCAInterval, s.logger)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(s.host, strconv.Itoa(s.port)))
	if err != nil {
		return fmt.Errorf("webhook server: %w", err)
	}
	limited := newConnLimitListener(l, s.maxConns, s.maxPeerConns, s.logger)
	srv := &http.Server{
		ConnState:         limited.connState,
		Handler:           s.limit(s.WebhookMux()),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		// A non-nil empty map turns HTTP/2 off, with NextProtos above.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		BaseContext:  func(net.Listener) context.Context { return ctx },
		// Handshake failures and the like: one line each at debug level, never a flood.
		ErrorLog: log.New(logWriter{s.logger.V(1)}, "", 0),
	}
	s.logger.Info("serving webhooks", "address", l.Addr().String(), "maxInFlight", cap(s.slots), "maxSmallInFlight", cap(s.smallSlots),
		"maxConnections", s.maxConns, "maxConnectionsPerPeer", s.maxPeerConns, "clientCA", s.clientCAFile)
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	s.started.Store(true)
	if err := srv.Serve(tls.NewListener(limited, cfg)); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("webhook server: %w", err)
	}
	<-done
	return nil
}

// StartedChecker is ready once the server accepts TLS connections.
func (s *webhookServer) StartedChecker() healthz.Checker {
	return func(*http.Request) error {
		if !s.started.Load() {
			return errors.New("webhook server not started yet")
		}
		d := &net.Dialer{Timeout: 2 * time.Second}
		conn, err := tls.DialWithDialer(d, "tcp", net.JoinHostPort(dialHost(s.host), strconv.Itoa(s.port)),
			&tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a liveness dial, no data
		if err != nil {
			// With client-certificate verification the handshake fails here, after the
			// server answered: that is a serving server.
			var alert tls.AlertError
			if s.clientCAFile != "" && (errors.As(err, &alert) || errors.Is(err, net.ErrClosed)) {
				return nil
			}
			return fmt.Errorf("webhook server is not reachable: %w", err)
		}
		return conn.Close()
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every replica serves.
func (*webhookServer) NeedLeaderElection() bool { return false }

// dialHost is where the server is reached from the same process.
func dialHost(host string) string {
	if host == "" || host == "0.0.0.0" || host == "::" {
		return "127.0.0.1"
	}
	return host
}

// logWriter writes the HTTP server's error log lines to a logger.
type logWriter struct{ logger logr.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.logger.Info(string(trimNewline(p)))
	return len(p), nil
}

func trimNewline(p []byte) []byte {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		return p[:n-1]
	}
	return p
}
