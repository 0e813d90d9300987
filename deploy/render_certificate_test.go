package deploy_test

import (
	"bytes"
	"testing"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestRenderedCertificate: the cert-manager Certificate `render --cert-manager-issuer` prints
// fills the Secret the proxies mount (metrics-proxy.io/tls-secret), decodes strictly into
// cert-manager's own type and is accepted by a real API server with cert-manager's CRDs,
// field-validated strictly, as `kubectl apply` would send it.
func TestRenderedCertificate(t *testing.T) {
	cp := startControlPlane(t)
	_, _, err := cp.run(t, "", "create", "namespace", "monitoring")
	require.NoError(t, err)
	for _, cm := range []*manifest.CertManager{
		{Issuer: "metrics-ca", IssuerKind: manifest.ClusterIssuerKind},
		{Issuer: "node-ca", IssuerKind: manifest.IssuerKind, DNSNames: []string{"scrape.example.com"}, IPAddresses: []string{"10.0.0.11", "fd00::11"}},
	} {
		t.Run(cm.IssuerKind, func(t *testing.T) {
			docs, err := manifest.Render(manifest.RenderOptions{Namespace: "monitoring", ScraperNamespace: "monitoring",
				ScraperServiceAccount: "prometheus", TLSSecret: "metrics-proxy-tls", CertManager: cm})
			require.NoError(t, err)
			var cert cmapi.Certificate
			require.NoError(t, yaml.UnmarshalStrict(docs[0].YAML, &cert), "the first document is the Certificate")
			assert.Equal(t, "Certificate", cert.Kind)
			assert.Equal(t, "metrics-proxy-tls", cert.Spec.SecretName)
			assert.Equal(t, cm.Issuer, cert.Spec.IssuerRef.Name)
			assert.Equal(t, cm.IssuerKind, cert.Spec.IssuerRef.Kind)
			assert.Equal(t, cmapi.ECDSAKeyAlgorithm, cert.Spec.PrivateKey.Algorithm)
			assert.Equal(t, cmapi.RotationPolicyAlways, cert.Spec.PrivateKey.RotationPolicy)
			assert.Contains(t, cert.Spec.Usages, cmapi.UsageServerAuth)
			if len(cm.DNSNames)+len(cm.IPAddresses) == 0 {
				assert.Equal(t, []string{manifest.DefaultCertDNSName("monitoring")}, cert.Spec.DNSNames)
			} else {
				assert.Equal(t, cm.DNSNames, cert.Spec.DNSNames)
				assert.Equal(t, cm.IPAddresses, cert.Spec.IPAddresses)
			}
			var mounted []string
			for _, d := range docs[1:] {
				if bytes.Contains(d.YAML, []byte("kind: DaemonSet")) && bytes.Contains(d.YAML, []byte(names.TLSSecretAnnotation+": metrics-proxy-tls\n")) {
					mounted = append(mounted, string(d.YAML))
				}
			}
			require.Len(t, mounted, 1, "the proxy with TLS frontends serves the Certificate's Secret")
			assert.Contains(t, mounted[0], "name: "+names.ControlPlaneDaemonSet)
			_, stderr, err := cp.run(t, string(docs[0].YAML), "apply", "--dry-run=server", "--validate=strict", "-f", "-")
			require.NoError(t, err, stderr)
		})
	}
	// The CRD's schema is what the strict apply checks: a misspelt field is refused.
	_, stderr, err := cp.run(t, `apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: x, namespace: monitoring}
spec: {secretName: x, issuerRef: {name: y}, dnsName: [a.example]}
`, "apply", "--dry-run=server", "--validate=strict", "-f", "-")
	require.Error(t, err)
	assert.Contains(t, stderr, "dnsName")
}
