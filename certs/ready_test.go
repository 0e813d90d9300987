package certs

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSelfSignedReadyNeedsATrustingBundle: /readyz stays failed while the webhook
// configurations' caBundle does not verify the served certificate.
func TestSelfSignedReadyNeedsATrustingBundle(t *testing.T) {
	iss := issuer([]string{"localhost"})
	now := time.Now()
	ca, err := iss.CreateCACert(now.Add(-time.Hour), now.Add(time.Hour))
	require.NoError(t, err)
	other, err := iss.CreateCACert(now.Add(-time.Hour), now.Add(time.Hour))
	require.NoError(t, err)
	cert, key, err := iss.CreateCertPEM(ca, now.Add(-time.Hour), now.Add(time.Hour))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, CertFile), cert, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, KeyFile), key, 0o600))

	s := &SelfSigned{DNSNames: []string{"localhost"}, WebhookConfiguration: "metrics-proxy", Dir: dir}
	assert.ErrorIs(t, s.Ready(nil), errNotLoaded, "no certificate yet")
	require.NoError(t, s.served().Load())
	assert.ErrorContains(t, s.Ready(nil), "not checked yet")

	set := func(bundles ...[]byte) { s.bundles.Store(&bundles) }
	set(other.CertPEM)
	assert.ErrorContains(t, s.Ready(nil), "does not verify")
	set(ca.CertPEM, other.CertPEM)
	assert.ErrorContains(t, s.Ready(nil), "does not verify", "every webhook's bundle must trust it")
	set(ca.CertPEM, append(append([]byte(nil), other.CertPEM...), ca.CertPEM...))
	assert.NoError(t, s.Ready(nil))
}
