package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
)

// Keys of the self-signed mode's Secret.
const (
	// CAKey and CAPrivateKey are the current CA's certificate and key.
	CAKey        = "ca.crt"
	CAPrivateKey = "ca.key"
	// BundleKey is the caBundle: the current CA, then older CAs that have not expired.
	BundleKey = "ca-bundle.crt"
)

// issuer makes CAs and serving certificates with cert-controller's key-pair functions.
func issuer(dnsNames []string) *rotator.CertRotator {
	return &rotator.CertRotator{
		CAName: "metrics-proxy-ca", CAOrganization: "metrics-proxy",
		DNSName: dnsNames[0], ExtraDNSNames: dnsNames[1:],
		ExtKeyUsages: &[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
}

// parseCA reads a CA key pair as cert-controller writes it.
func parseCA(certPEM, keyPEM []byte) (*rotator.KeyPairArtifacts, error) {
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, fmt.Errorf("CA key: no PEM block")
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	return &rotator.KeyPairArtifacts{Cert: cert, Key: key, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// parseCert reads the first certificate of a PEM block list.
func parseCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// splitBundle returns the certificates of a PEM bundle, each as its own PEM.
func splitBundle(bundle []byte) [][]byte {
	var out [][]byte
	for {
		var block *pem.Block
		block, bundle = pem.Decode(bundle)
		if block == nil {
			return out
		}
		if block.Type == "CERTIFICATE" {
			out = append(out, pem.EncodeToMemory(block))
		}
	}
}

// buildBundle is the current CA followed by the CAs of old that differ from it and are still
// valid at now: certificates they signed may still be served while replicas switch.
func buildBundle(current []byte, old []byte, now time.Time) []byte {
	out := bytes.Clone(current)
	for _, c := range splitBundle(old) {
		if bytes.Equal(bytes.TrimSpace(c), bytes.TrimSpace(current)) {
			continue
		}
		if cert, err := parseCert(c); err == nil && cert.NotAfter.After(now) {
			out = append(out, c...)
		}
	}
	return out
}

// verifies reports whether bundle (a caBundle) verifies the leaf certificate for dnsName.
func verifies(bundle []byte, leaf *x509.Certificate, dnsName string) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(bundle) {
		return fmt.Errorf("caBundle holds no certificate")
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: dnsName, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}
