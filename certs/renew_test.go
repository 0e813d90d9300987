package certs

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRenew walks a Secret through its life: creation, a no-op, a forced CA rotation with the
// old CA kept in the bundle, a serving certificate renewed in its last third, the old CA dropped
// once expired, and a CA renewed in its last third.
func TestRenew(t *testing.T) {
	iss := issuer([]string{"svc.ns.svc", "svc.ns.svc.cluster.local"})
	v := validity{ca: 90 * time.Hour, cert: 30 * time.Hour}
	now := time.Now()
	secret := &corev1.Secret{}

	changed, err := renew(secret, iss, v, now)
	require.NoError(t, err)
	require.True(t, changed, "a new Secret gets a CA and a certificate")
	firstCA := string(secret.Data[CAKey])
	assert.Len(t, splitBundle(secret.Data[BundleKey]), 1)
	assertServes(t, secret, "svc.ns.svc", now)

	changed, err = renew(secret, iss, v, now.Add(time.Minute))
	require.NoError(t, err)
	assert.False(t, changed, "nothing to renew: the Secret is not rewritten, so replicas do not flap")

	oldCert := append([]byte(nil), secret.Data[CertFile]...)
	secret.Annotations = map[string]string{RotateAnnotation: "now"}
	changed, err = renew(secret, iss, v, now.Add(2*time.Minute))
	require.NoError(t, err)
	require.True(t, changed)
	assert.NotEqual(t, firstCA, string(secret.Data[CAKey]), "a forced rotation makes a new CA")
	assert.NotContains(t, secret.Annotations, RotateAnnotation, "the request is consumed")
	require.Len(t, splitBundle(secret.Data[BundleKey]), 2, "the old CA stays in the bundle")
	assertServes(t, secret, "svc.ns.svc", now.Add(2*time.Minute))
	leaf, err := parseCert(oldCert)
	require.NoError(t, err)
	assert.NoError(t, verifies(secret.Data[BundleKey], leaf, "svc.ns.svc"), "a replica still serving the old certificate stays trusted")

	secondCA := string(secret.Data[CAKey])
	certBefore := string(secret.Data[CertFile])
	changed, err = renew(secret, iss, v, now.Add(21*time.Hour)) // last third of the 30 h certificate
	require.NoError(t, err)
	require.True(t, changed)
	assert.Equal(t, secondCA, string(secret.Data[CAKey]), "only the certificate is renewed")
	assert.NotEqual(t, certBefore, string(secret.Data[CertFile]))

	changed, err = renew(secret, iss, v, now.Add(91*time.Hour)) // the first CA has expired
	require.NoError(t, err)
	require.True(t, changed)
	bundle := splitBundle(secret.Data[BundleKey])
	assert.Equal(t, secret.Data[CAKey], bundle[0], "the current CA comes first")
	for _, c := range bundle {
		assert.NotEqual(t, firstCA, string(c), "an expired CA leaves the bundle")
	}
	assert.NotEqual(t, secondCA, string(secret.Data[CAKey]), "a CA in the last third of its life is renewed")
}

func TestRenewRepairsGarbage(t *testing.T) {
	iss := issuer([]string{"svc.ns.svc"})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"},
		Data: map[string][]byte{CAKey: []byte("not pem"), CAPrivateKey: []byte("x"), CertFile: []byte("y")}}
	changed, err := renew(secret, iss, validity{ca: time.Hour, cert: time.Hour}, time.Now())
	require.NoError(t, err)
	assert.True(t, changed)
	assertServes(t, secret, "svc.ns.svc", time.Now())
}

// assertServes checks the Secret's serving certificate verifies against its own bundle.
func assertServes(t *testing.T, secret *corev1.Secret, dnsName string, at time.Time) {
	t.Helper()
	leaf, err := parseCert(secret.Data[CertFile])
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(secret.Data[BundleKey]))
	_, err = leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: dnsName, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	assert.NoError(t, err)
}
