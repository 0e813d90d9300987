package manifest

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// CertManager asks Render for a cert-manager Certificate that fills the frontend Secret
// (RenderOptions.TLSSecret) for scrapers that verify the proxies' certificate.
type CertManager struct {
	// Issuer is the issuer's name and IssuerKind "Issuer" (in the proxies' namespace) or
	// "ClusterIssuer".
	Issuer, IssuerKind string
	// DNSNames and IPAddresses are the certificate's subject alternative names: one Secret serves
	// every proxy, so either a name scrapers verify (Prometheus tls_config.server_name, a
	// ServiceMonitor's tlsConfig.serverName) or every node IP. Default: DefaultCertDNSName.
	DNSNames, IPAddresses []string
}

// Issuer kinds of cert-manager.
const (
	IssuerKind        = "Issuer"
	ClusterIssuerKind = "ClusterIssuer"
)

// DefaultCertDNSName is the certificate's name when none is given: metrics-proxy.NAMESPACE.svc,
// what scrapers set as the server name to verify (no Service of that name is needed).
func DefaultCertDNSName(namespace string) string { return "metrics-proxy." + namespace + ".svc" }

// ParseIssuer reads [Issuer/|ClusterIssuer/]NAME (default kind ClusterIssuer).
func ParseIssuer(s string) (kind, name string, err error) {
	kind, name, ok := strings.Cut(s, "/")
	if !ok {
		kind, name = ClusterIssuerKind, s
	}
	if kind != IssuerKind && kind != ClusterIssuerKind {
		return "", "", fmt.Errorf("issuer %q: kind %q: want %s or %s", s, kind, IssuerKind, ClusterIssuerKind)
	}
	if err := checkName("issuer", name, validation.IsDNS1123Subdomain); err != nil {
		return "", "", fmt.Errorf("issuer %q: %w", s, err)
	}
	return kind, name, nil
}

// certificate returns the Certificate of secret in namespace (empty: none named).
func (c *CertManager) certificate(namespace, secret string) (any, error) {
	if secret == "" {
		return nil, errors.New("a cert-manager Certificate fills the frontend Secret: name it (--tls-secret)")
	}
	if c.IssuerKind != IssuerKind && c.IssuerKind != ClusterIssuerKind {
		return nil, fmt.Errorf("issuer kind %q: want %s or %s", c.IssuerKind, IssuerKind, ClusterIssuerKind)
	}
	if err := checkName("issuer", c.Issuer, validation.IsDNS1123Subdomain); err != nil {
		return nil, err
	}
	dns := c.DNSNames
	if len(dns) == 0 && len(c.IPAddresses) == 0 {
		if namespace == "" {
			return nil, errors.New("the certificate needs a name or an address: give a namespace, DNS names or IP addresses")
		}
		dns = []string{DefaultCertDNSName(namespace)}
	}
	for _, d := range dns {
		if msgs := validation.IsDNS1123Subdomain(strings.TrimPrefix(d, "*.")); len(msgs) > 0 {
			return nil, fmt.Errorf("certificate DNS name %q: %s", d, strings.Join(msgs, "; "))
		}
	}
	for _, ip := range c.IPAddresses {
		if net.ParseIP(ip) == nil {
			return nil, fmt.Errorf("certificate IP address %q: not an IP address", ip)
		}
	}
	meta := map[string]any{"name": secret}
	if namespace != "" {
		meta["namespace"] = namespace
	}
	spec := map[string]any{
		"secretName": secret,
		"issuerRef":  map[string]any{"group": "cert-manager.io", "kind": c.IssuerKind, "name": c.Issuer},
		// A fresh key at every renewal; the renewed Secret rolls the proxies (config-hash).
		"privateKey":  map[string]any{"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
		"usages":      []any{"server auth", "digital signature"},
		"duration":    "2160h",
		"renewBefore": "720h",
	}
	if len(dns) > 0 {
		spec["dnsNames"] = strings2any(dns)
	}
	if len(c.IPAddresses) > 0 {
		spec["ipAddresses"] = strings2any(c.IPAddresses)
	}
	return map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": meta, "spec": spec}, nil
}

func strings2any(in []string) []any {
	out := make([]any, len(in))
	for i, s := range in {
		out[i] = s
	}
	return out
}
