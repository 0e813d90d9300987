package deploy_test

import (
	"testing"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Names in the cert-manager overlay.
const (
	// injectCAFrom asks cert-manager's CA injector for a caBundle.
	injectCAFrom = cmapi.WantInjectAnnotation
	// servingCertificate is the Certificate whose Secret the server mounts.
	servingCertificate = "metrics-proxy-webhook"
)

// serviceDNSNames are the names the API server uses to call the webhook Service.
var serviceDNSNames = []string{
	serviceName + "." + Namespace + ".svc",
	serviceName + "." + Namespace + ".svc.cluster.local",
}

// TestCertManagerChain follows the cert-manager overlay from the annotation to the root: the
// Certificate named by inject-ca-from issues the Secret the Deployment mounts, for the Service's
// DNS names, from a CA Issuer whose CA Certificate a selfSigned Issuer signs.
func TestCertManagerChain(t *testing.T) {
	b := kustomize(t, "overlays/cert-manager")
	d, _ := deployment(t, b)
	serving := &cmapi.Certificate{}
	b.get(t, "Certificate", servingCertificate, serving)
	assert.Equal(t, certSecret, serving.Spec.SecretName)
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			assert.Equal(t, serving.Spec.SecretName, v.Secret.SecretName)
		}
	}
	assert.ElementsMatch(t, serviceDNSNames, serving.Spec.DNSNames)
	assert.False(t, serving.Spec.IsCA)
	assert.Contains(t, serving.Spec.Usages, cmapi.UsageServerAuth)

	caIssuer := &cmapi.Issuer{}
	require.Equal(t, "Issuer", serving.Spec.IssuerRef.Kind)
	b.get(t, "Issuer", serving.Spec.IssuerRef.Name, caIssuer)
	require.NotNil(t, caIssuer.Spec.CA, "the serving certificate comes from a CA Issuer")

	var ca *cmapi.Certificate
	for _, o := range b.ofKind("Certificate") {
		c := &cmapi.Certificate{}
		decode(t, o, c)
		if c.Spec.SecretName == caIssuer.Spec.CA.SecretName {
			ca = c
		}
	}
	require.NotNil(t, ca, "a Certificate issues the CA Issuer's Secret %s", caIssuer.Spec.CA.SecretName)
	assert.True(t, ca.Spec.IsCA)
	root := &cmapi.Issuer{}
	b.get(t, "Issuer", ca.Spec.IssuerRef.Name, root)
	assert.NotNil(t, root.Spec.SelfSigned, "the CA is self-signed")
}
