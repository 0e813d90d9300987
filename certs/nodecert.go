package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// NodeCertValidity is how long a proxy's per-node certificate is valid. A pod start makes a new
// one; scrapers that skip verification (kube-prometheus-stack's default) never look at it.
const NodeCertValidity = 365 * 24 * time.Hour

// NodeCert is a proxy frontend's per-node key and self-signed certificate, PEM-encoded.
type NodeCert struct {
	// CertPEM is the certificate, for the node's IP only.
	CertPEM []byte
	// KeyPEM is the private key (PKCS #8); it never leaves the node and is never logged.
	KeyPEM []byte
	// Fingerprint is the SHA-256 of the certificate's DER, hex: what may be logged.
	Fingerprint string
}

// NewNodeCert makes a fresh ECDSA P-256 key and a self-signed serving certificate for ip, valid
// from now (a minute back, for clock skew) for NodeCertValidity.
func NewNodeCert(ip net.IP, now time.Time) (*NodeCert, error) {
	if ip == nil || ip.IsUnspecified() {
		return nil, fmt.Errorf("node certificate: %q is not a node IP", ip)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("node certificate: key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("node certificate: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "metrics-proxy " + ip.String()},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(NodeCertValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IPAddresses:           []net.IP{ip},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("node certificate: sign: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("node certificate: encode key: %w", err)
	}
	sum := sha256.Sum256(der)
	return &NodeCert{
		CertPEM:     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:      pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		Fingerprint: hex.EncodeToString(sum[:]),
	}, nil
}

// Write stores the certificate at path (mode 0644) and the key at path + ".key" (mode 0600),
// where HAProxy's `bind ... ssl crt PATH` finds it. Each file is written to a temporary name in
// the same directory and renamed, so HAProxy never reads half a file.
func (c *NodeCert) Write(path string) error {
	if err := writeAtomic(path+".key", c.KeyPEM, 0o600); err != nil {
		return err
	}
	return writeAtomic(path, c.CertPEM, 0o644)
}

func writeAtomic(path string, data []byte, mode os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", path, err), f.Close())
	}
	if _, err := f.Write(data); err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", path, err), f.Close())
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
