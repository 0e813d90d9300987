package certs

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
)

// Mode names how the server gets its serving certificate; the values of serve --cert-mode.
type Mode string

// The modes.
const (
	// ModeFiles reads tls.crt and tls.key from a directory and reloads them on change.
	ModeFiles Mode = "files"
	// ModeCertManager is ModeFiles on the Secret cert-manager issues, mounted into the directory.
	ModeCertManager Mode = "cert-manager"
	// ModeSelfSigned keeps a CA and serving certificate in a Secret and the caBundle current.
	ModeSelfSigned Mode = "self-signed"
)

// ParseMode checks a --cert-mode value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeFiles, ModeCertManager, ModeSelfSigned:
		return m, nil
	}
	return "", fmt.Errorf("certificate mode %q: want %s, %s or %s", s, ModeFiles, ModeCertManager, ModeSelfSigned)
}

// Source provides the webhook server's serving certificate.
type Source interface {
	// GetCertificate answers TLS handshakes with the current certificate (tls.Config.GetCertificate).
	GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// Ready returns nil once a certificate is loaded and, where the source manages the webhook
	// configurations' caBundle, once that bundle verifies it; a healthz.Checker for /readyz.
	Ready(*http.Request) error
	// Start keeps the certificate current until ctx ends; a manager.Runnable.
	Start(ctx context.Context) error
}
