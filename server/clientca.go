package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

// Reading of the client CA file (--client-ca-file).
const (
	// DefaultClientCAInterval is how often the client CA file is read again for changes.
	DefaultClientCAInterval = 10 * time.Second
	// maxClientCABytes caps the file: a bundle of CA certificates is a few KiB.
	maxClientCABytes = 1 << 20
)

// clientCA holds the TLS configuration that verifies clients against the CAs of a PEM file and
// swaps it when the file changes (a mounted ConfigMap or Secret is replaced in place when its
// source changes, as the serving certificate is), so that rotating the API server's client CA
// needs no restart. A file that no longer parses is logged and the previous CAs stay.
type clientCA struct {
	file   string
	base   *tls.Config
	loaded []byte
	config atomic.Pointer[tls.Config]
}

// newClientCA reads file now: a missing or empty file is an error at start.
func newClientCA(file string, base *tls.Config) (*clientCA, error) {
	c := &clientCA{file: file, base: base}
	if _, err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the file and, when it changed, swaps the configuration; it reports whether it did.
func (c *clientCA) reload() (bool, error) {
	f, err := os.Open(c.file)
	if err != nil {
		return false, fmt.Errorf("client CA: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxClientCABytes+1))
	if err != nil {
		return false, fmt.Errorf("client CA: %w", err)
	}
	if len(data) > maxClientCABytes {
		return false, fmt.Errorf("client CA %s: larger than %d bytes", c.file, maxClientCABytes)
	}
	if c.loaded != nil && bytes.Equal(data, c.loaded) {
		return false, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return false, fmt.Errorf("client CA %s: no PEM certificate", c.file)
	}
	cfg := c.base.Clone()
	cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
	c.config.Store(cfg)
	c.loaded = data
	return true, nil
}

// GetConfigForClient is tls.Config's hook: every handshake verifies against the CAs in force.
func (c *clientCA) GetConfigForClient(*tls.ClientHelloInfo) (*tls.Config, error) {
	return c.config.Load(), nil
}

// watch reads the file every interval until ctx ends.
func (c *clientCA) watch(ctx context.Context, interval time.Duration, logger logr.Logger) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		switch changed, err := c.reload(); {
		case err != nil:
			clientCAReloads.WithLabelValues("invalid").Inc()
			logger.Info("client CA file not reloaded: the previous CAs stay", "file", c.file, "error", err.Error())
		case changed:
			clientCAReloads.WithLabelValues("loaded").Inc()
			logger.Info("client CA reloaded", "file", c.file)
		}
	}
}
