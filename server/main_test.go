package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/metrics-proxy/injector/e2e/harness"
)

// The package's API server, started in TestMain; nil when the control plane is not built
// (noControlPlane says why). It presents a client certificate to every webhook, signed by the CA
// in apiClientCAFile, as a cluster configures it through the admission configuration's
// kubeConfigFile; webhook servers without a client CA ignore it.
var (
	cfg             *rest.Config
	noControlPlane  error
	apiClientCAFile string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	assets, err := harness.Assets()
	if err != nil {
		noControlPlane = err
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "metrics-proxy-server-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	admissionConfig, err := webhookClientCertificate(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "webhook client certificate: %v\n", err)
		return 1
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	env.ControlPlane.GetAPIServer().Configure().Set("admission-control-config-file", admissionConfig)
	if cfg, err = env.Start(); err != nil {
		_ = env.Stop()
		fmt.Fprintf(os.Stderr, "start kube-apiserver and etcd: %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	return m.Run()
}

// webhookClientCertificate writes a CA (apiClientCAFile), a client certificate it signed, a
// kubeconfig that gives the certificate to every webhook ("*") and the admission configuration
// that points both webhook plugins at it; it returns the configuration's path.
func webhookClientCertificate(dir string) (string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "webhook-client-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver-webhook-client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", err
	}
	apiClientCAFile = filepath.Join(dir, "webhook-client-ca.crt")
	certFile, keyFile := filepath.Join(dir, "webhook-client.crt"), filepath.Join(dir, "webhook-client.key")
	kubeconfig, config := filepath.Join(dir, "webhook-kubeconfig"), filepath.Join(dir, "admission.yaml")
	files := map[string]string{
		apiClientCAFile: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
		certFile:        string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		keyFile:         string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})),
		kubeconfig: "apiVersion: v1\nkind: Config\nusers:\n- name: \"*\"\n  user:\n    client-certificate: " + certFile +
			"\n    client-key: " + keyFile + "\n",
		config: "apiVersion: apiserver.config.k8s.io/v1\nkind: AdmissionConfiguration\nplugins:\n" +
			"- name: ValidatingAdmissionWebhook\n  configuration:\n    apiVersion: apiserver.config.k8s.io/v1\n" +
			"    kind: WebhookAdmissionConfiguration\n    kubeConfigFile: " + kubeconfig + "\n" +
			"- name: MutatingAdmissionWebhook\n  configuration:\n    apiVersion: apiserver.config.k8s.io/v1\n" +
			"    kind: WebhookAdmissionConfiguration\n    kubeConfigFile: " + kubeconfig + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			return "", err
		}
	}
	return config, nil
}
