package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// RotateAnnotation on the Secret asks for a new CA at the next reconcile, whatever the expiry:
// kubectl annotate secret metrics-proxy-webhook-tls metrics-proxy.io/rotate-ca=now
const RotateAnnotation = "metrics-proxy.io/rotate-ca"

// SelfSigned keeps a CA and a serving certificate in a Secret, writes the serving certificate
// into Dir for the webhook server, and keeps the caBundle of the webhook configurations named
// WebhookConfiguration current. Every replica runs it; they agree through the Secret.
type SelfSigned struct {
	// Client reads and writes the Secret and the webhook configurations, uncached.
	Client client.Client
	// Secret is where the CA and the serving certificate live.
	Secret types.NamespacedName
	// DNSNames of the serving certificate; the first is checked against the caBundle.
	DNSNames []string
	// WebhookConfiguration names the Mutating- and ValidatingWebhookConfiguration to keep current.
	WebhookConfiguration string
	// Dir receives tls.crt and tls.key.
	Dir string
	// CAValidity and CertValidity are how long new certificates last; 0: 5 years and 1 year.
	CAValidity, CertValidity time.Duration
	// Interval is how often the Secret and the configurations are checked; 0 means 1 minute.
	Interval time.Duration

	filesOnce sync.Once
	files     *Files                   // made once from Dir: Start, handshakes and probes share it without a race
	bundles   atomic.Pointer[[][]byte] // the caBundles the configurations held at the last good check
}

var _ Source = (*SelfSigned)(nil)

// served returns the files source that serves what the Secret holds, made on first use.
func (s *SelfSigned) served() *Files {
	s.filesOnce.Do(func() { s.files = &Files{Dir: s.Dir, Interval: time.Second} })
	return s.files
}

// GetCertificate implements Source.
func (s *SelfSigned) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.served().GetCertificate(hello)
}

// Ready implements Source: a certificate is served and every caBundle of both configurations,
// as last seen, verifies it. A failed check (the API server briefly away) does not make the
// replica unready: what it serves is still trusted, and unready replicas would take the webhook
// down with them.
func (s *SelfSigned) Ready(req *http.Request) error {
	if err := s.served().Ready(req); err != nil {
		return err
	}
	cert, err := s.served().GetCertificate(nil)
	if err != nil {
		return err
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}
	bundles := s.bundles.Load()
	if bundles == nil || len(*bundles) == 0 {
		return fmt.Errorf("webhook configurations %q not checked yet", s.WebhookConfiguration)
	}
	for _, b := range *bundles {
		if err := verifies(b, leaf, s.DNSNames[0]); err != nil {
			return fmt.Errorf("a caBundle of %q does not verify the serving certificate: %w", s.WebhookConfiguration, err)
		}
	}
	return nil
}

// Start implements Source: it reconciles now and every Interval, and serves the files.
func (s *SelfSigned) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("certs").WithValues("secret", s.Secret.String())
	done := make(chan error, 1)
	go func() { done <- s.served().Start(ctx) }()
	interval := s.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := s.Reconcile(ctx); err != nil {
			logger.Error(err, "self-signed certificates")
		}
		select {
		case <-ctx.Done():
			return <-done
		case <-tick.C:
		}
	}
}

// Reconcile brings the Secret, the files and the configurations' caBundle up to date once.
func (s *SelfSigned) Reconcile(ctx context.Context) error {
	for range 5 {
		secret, err := s.ensureSecret(ctx)
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
			continue // another replica wrote the Secret first: start again from its version
		}
		if err != nil {
			return err
		}
		if err := s.writeFiles(secret); err != nil {
			return err
		}
		err = s.injectBundle(ctx, secret.Data[BundleKey])
		if apierrors.IsConflict(err) {
			continue
		}
		return err
	}
	return fmt.Errorf("secret %s: five conflicting updates in a row", s.Secret)
}

// ensureSecret reads the Secret and renews what needs renewing, creating it when absent.
func (s *SelfSigned) ensureSecret(ctx context.Context) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := s.Client.Get(ctx, s.Secret, secret)
	absent := apierrors.IsNotFound(err)
	if err != nil && !absent {
		return nil, fmt.Errorf("get secret %s: %w", s.Secret, err)
	}
	if absent {
		secret.Name, secret.Namespace = s.Secret.Name, s.Secret.Namespace
		secret.Labels = map[string]string{"app.kubernetes.io/name": "metrics-proxy"}
	}
	changed, err := renew(secret, issuer(s.DNSNames), s.validity(), time.Now())
	switch {
	case err != nil:
		return nil, err
	case absent:
		err = s.Client.Create(ctx, secret)
	case changed:
		err = s.Client.Update(ctx, secret)
	}
	if err != nil {
		return nil, fmt.Errorf("write secret %s: %w", s.Secret, err)
	}
	return secret, nil
}

// validity returns the CA and certificate lifetimes, defaults applied.
func (s *SelfSigned) validity() validity {
	v := validity{ca: s.CAValidity, cert: s.CertValidity}
	if v.ca <= 0 {
		v.ca = 5 * 365 * 24 * time.Hour
	}
	if v.cert <= 0 {
		v.cert = 365 * 24 * time.Hour
	}
	return v
}

// writeFiles puts the Secret's serving certificate into Dir when it differs, key first, each
// file replaced atomically, so the certificate watcher never reads half a file.
func (s *SelfSigned) writeFiles(secret *corev1.Secret) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("certificate dir: %w", err)
	}
	for _, f := range []struct{ name, key string }{{KeyFile, KeyFile}, {CertFile, CertFile}} {
		path := filepath.Join(s.Dir, f.name)
		if old, err := os.ReadFile(path); err == nil && string(old) == string(secret.Data[f.key]) {
			continue
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, secret.Data[f.key], 0o600); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	return nil
}
