package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/admission"
)

// TestClientCertificate: with a client CA, the webhook server answers only clients whose
// certificate that CA signed (the API server, given the certificate in its admission
// configuration); anyone else who reaches the port learns nothing.
func TestClientCertificate(t *testing.T) {
	needControlPlane(t)
	caCert, caKey := newCA(t, "api-server-client-ca")
	file := filepath.Join(t.TempDir(), "client-ca.crt")
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caCert.Raw}), 0o600))
	r := startServer(t, cfg, "", func(o *server.Options) { o.ClientCAFile = file })

	signed := clientCert(t, caCert, caKey)
	otherCA, otherKey := newCA(t, "another-ca")
	for _, tt := range []struct {
		name  string
		certs []tls.Certificate
		ok    bool
	}{
		{"no client certificate", nil, false},
		{"a certificate of another CA", []tls.Certificate{clientCert(t, otherCA, otherKey)}, false},
		{"the API server's certificate", []tls.Certificate{signed}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := r.client(func(c *tls.Config) { c.Certificates = tt.certs })
			resp, err := c.Post("https://"+r.addr+admission.ValidateConfigMapPath, "application/json", nil)
			if !tt.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

func newCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key
}

func clientCert(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestClientCertificateThroughAPIServer: the API server, given a client certificate for webhooks
// in its admission configuration, reaches a webhook server that requires one signed by that CA.
func TestClientCertificateThroughAPIServer(t *testing.T) {
	needControlPlane(t)
	r := startServer(t, cfg, "", func(o *server.Options) { o.ClientCAFile = apiClientCAFile })
	c, err := client.New(cfg, client.Options{})
	require.NoError(t, err)
	registerWebhooks(t, c, r) // waits until a stub is injected through the API server
	_, err = r.client(nil).Post("https://"+r.addr+admission.ValidateConfigMapPath, "application/json", nil)
	require.Error(t, err, "and it answers no one else")
}

// TestClientCARotation: the client CA file is read again when it changes, as a mounted ConfigMap
// or Secret is updated in place: a rotated CA is trusted without a restart and the old one no
// longer is; a file that no longer parses keeps the CAs in force.
func TestClientCARotation(t *testing.T) {
	needControlPlane(t)
	oldCA, oldKey := newCA(t, "old-client-ca")
	newCert, newKey := newCA(t, "new-client-ca")
	dir := t.TempDir()
	file := filepath.Join(dir, "client-ca.crt")
	write := func(data []byte) { // replaced as the kubelet does: a new file renamed over the old
		tmp := filepath.Join(dir, "tmp")
		require.NoError(t, os.WriteFile(tmp, data, 0o600))
		require.NoError(t, os.Rename(tmp, file))
	}
	pemOf := func(c *x509.Certificate) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	write(pemOf(oldCA))
	r := startServer(t, cfg, "", func(o *server.Options) {
		o.ClientCAFile, o.ClientCAInterval = file, 100*time.Millisecond
	})
	accepted := func(cert tls.Certificate) bool {
		c := r.client(func(c *tls.Config) { c.Certificates = []tls.Certificate{cert} })
		c.Transport.(*http.Transport).DisableKeepAlives = true
		resp, err := c.Post("https://"+r.addr+admission.ValidateConfigMapPath, "application/json", nil)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	oldClient, newClient := clientCert(t, oldCA, oldKey), clientCert(t, newCert, newKey)
	require.True(t, accepted(oldClient), "the CA in the file at start")
	require.False(t, accepted(newClient), "a CA not in the file")

	write(pemOf(newCert))
	require.Eventually(t, func() bool { return accepted(newClient) }, 10*time.Second, 100*time.Millisecond,
		"the rotated CA is never trusted")
	assert.False(t, accepted(oldClient), "the CA rotated out is still trusted")

	write([]byte("not a certificate"))
	time.Sleep(500 * time.Millisecond) // several reloads
	assert.True(t, accepted(newClient), "a broken file dropped the CAs in force")
	assert.Positive(t, r.metricValue(t, `metrics_proxy_client_ca_reloads_total{result="invalid"}`))
}
