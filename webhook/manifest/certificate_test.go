package manifest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/manifest"
)

// TestRenderCertificateErrors: every bad cert-manager request gets its own clear error.
func TestRenderCertificateErrors(t *testing.T) {
	ok := func() manifest.RenderOptions {
		return manifest.RenderOptions{Namespace: "monitoring", TLSSecret: "metrics-proxy-tls",
			CertManager: &manifest.CertManager{Issuer: "ca", IssuerKind: manifest.ClusterIssuerKind}}
	}
	tests := []struct {
		name, want string
		edit       func(*manifest.RenderOptions)
	}{
		{"no secret", "name it (--tls-secret)", func(o *manifest.RenderOptions) { o.TLSSecret = "" }},
		{"issuer kind", `issuer kind "Vault"`, func(o *manifest.RenderOptions) { o.CertManager.IssuerKind = "Vault" }},
		{"issuer name", `issuer "Bad_Name"`, func(o *manifest.RenderOptions) { o.CertManager.Issuer = "Bad_Name" }},
		{"DNS name", `certificate DNS name "no spaces allowed"`, func(o *manifest.RenderOptions) { o.CertManager.DNSNames = []string{"no spaces allowed"} }},
		{"IP address", `certificate IP address "10.0.0.300"`, func(o *manifest.RenderOptions) { o.CertManager.IPAddresses = []string{"10.0.0.300"} }},
		{"no namespace, no name", "needs a name or an address", func(o *manifest.RenderOptions) { o.Namespace = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok()
			_, err := manifest.Render(o)
			require.NoError(t, err, "the unedited options render")
			tt.edit(&o)
			_, err = manifest.Render(o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "cert-manager: ")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestParseIssuer: [Issuer/|ClusterIssuer/]NAME, ClusterIssuer by default.
func TestParseIssuer(t *testing.T) {
	tests := []struct{ in, kind, name, err string }{
		{in: "ca", kind: manifest.ClusterIssuerKind, name: "ca"},
		{in: "ClusterIssuer/ca", kind: manifest.ClusterIssuerKind, name: "ca"},
		{in: "Issuer/node-ca", kind: manifest.IssuerKind, name: "node-ca"},
		{in: "issuer/ca", err: `kind "issuer"`},
		{in: "Issuer/", err: "issuer"},
		{in: "Issuer/a/b", err: "issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			kind, name, err := manifest.ParseIssuer(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{tt.kind, tt.name}, []string{kind, name})
		})
	}
}
