package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Names of the files in a certificate directory, as a kubernetes.io/tls Secret projects them.
const (
	// CertFile is the serving certificate chain, PEM.
	CertFile = "tls.crt"
	// KeyFile is its private key, PEM.
	KeyFile = "tls.key"
)

// errNotLoaded answers handshakes and readiness probes before a certificate is loaded.
var errNotLoaded = errors.New("serving certificate not loaded yet")

// Files serves tls.crt and tls.key from Dir and reloads them when they change. The files may
// appear after the server starts (a Secret not yet issued): until then handshakes fail and the
// server is not ready.
type Files struct {
	// Dir holds CertFile and KeyFile.
	Dir string
	// Interval is how often missing files are looked for, and changed ones re-read whatever the
	// file-system events; 0 means 10 s.
	Interval time.Duration

	watcher atomic.Pointer[certwatcher.CertWatcher]
}

var _ Source = (*Files)(nil)

// GetCertificate implements Source.
func (f *Files) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	w := f.watcher.Load()
	if w == nil {
		return nil, errNotLoaded
	}
	return w.GetCertificate(hello)
}

// Ready implements Source: a certificate is loaded.
func (f *Files) Ready(*http.Request) error {
	if f.watcher.Load() == nil {
		return fmt.Errorf("%w from %s", errNotLoaded, f.Dir)
	}
	return nil
}

// Load reads the files now; Start does so until they exist.
func (f *Files) Load() error {
	w, err := certwatcher.New(filepath.Join(f.Dir, CertFile), filepath.Join(f.Dir, KeyFile))
	if err != nil {
		return fmt.Errorf("load serving certificate: %w", err)
	}
	w.WithWatchInterval(f.interval())
	w.RegisterCallback(recordExpiry)
	if cert, err := w.GetCertificate(nil); err == nil && cert != nil {
		recordExpiry(*cert)
	}
	f.watcher.Store(w)
	return nil
}

// Start implements Source: it waits for the files, then watches them until ctx ends.
func (f *Files) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("certs").WithValues("dir", f.Dir)
	tick := time.NewTicker(f.interval())
	defer tick.Stop()
	for f.watcher.Load() == nil {
		err := f.Load()
		if err == nil {
			break
		}
		logger.Info("waiting for the serving certificate", "reason", err.Error())
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
	logger.Info("serving certificate loaded")
	return f.watcher.Load().Start(ctx)
}

func (f *Files) interval() time.Duration {
	if f.Interval <= 0 {
		return 10 * time.Second
	}
	return f.Interval
}
