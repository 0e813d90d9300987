package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestCertManagerCAInjection runs the cert-manager overlay's TLS wiring end to end without
// cert-manager's controller: the overlay's Certificate exists, its Secret holds a serving
// certificate signed by a CA (what the CA Issuer would issue), our server serves that Secret's
// files (as the overlay's ServiceAccount), cert-manager's own CA injector fills both webhook
// configurations' caBundle from the Secret, and then the API server calls our webhooks over
// TLS: before, it rejects the server.
func TestCertManagerCAInjection(t *testing.T) {
	cp := startControlPlane(t)
	b := kustomize(t, "overlays/cert-manager")
	// The overlay for real (nothing runs its Deployment or issues its Certificates), but for the
	// webhook configurations: they are pointed at the local server below.
	cp.applyForReal(t, b, "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
	// Here the API server reaches the server on loopback through a URL (nothing routes a Service),
	// and checks the URL's host: the certificate names 127.0.0.1 besides the Service's names.
	issued := issue(t, serviceDNSNames, []net.IP{net.IPv4(127, 0, 0, 1)})
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: certSecret, Namespace: Namespace,
			Annotations: map[string]string{cmapi.CertificateNameKey: servingCertificate}},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": issued.cert, "tls.key": issued.key, "ca.crt": issued.ca},
	}
	require.NoError(t, cp.client.Create(t.Context(), secret))

	certDir := t.TempDir() // the Secret as the kubelet mounts it
	for _, key := range []string{"tls.crt", "tls.key"} {
		require.NoError(t, os.WriteFile(filepath.Join(certDir, key), secret.Data[key], 0o600))
	}
	addr := startWebhookServer(t, asServiceAccount(cp.cfg), certDir) // on the manifests' RBAC
	createWebhookConfigurations(t, cp, b, addr)
	ns := enabledNamespace(t, cp)

	poll(t, "the API server distrusts the server before injection", 30*time.Second, func() error {
		err := cp.client.Create(t.Context(), stubDaemonSet(ns), client.DryRunAll)
		if err == nil {
			return errors.New("admitted: the webhook is not in force yet")
		}
		if !strings.Contains(err.Error(), "x509") {
			return err
		}
		return nil
	})

	startCAInjector(t, cp.cfg)
	poll(t, "cert-manager's CA injector fills every caBundle", time.Minute, func() error {
		return caBundles(t, cp, issued.ca)
	})
	assertAdmissionOverTLS(t, cp, ns)
}

// createWebhookConfigurations creates the overlay's webhook configurations, pointed at addr:
// harness.LoadWebhooks turns each service reference into the URL of the same path there.
func createWebhookConfigurations(t *testing.T, cp *controlPlane, b *built, addr string) {
	t.Helper()
	var docs [][]byte
	for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
		o, ok := b.find(kind, webhookConfigurationName)
		require.True(t, ok, kind)
		data, err := yaml.Marshal(o.Object)
		require.NoError(t, err)
		docs = append(docs, data)
	}
	file := filepath.Join(t.TempDir(), "webhooks.yaml")
	require.NoError(t, os.WriteFile(file, bytes.Join(docs, []byte("---\n")), 0o600))
	hooks, err := harness.LoadWebhooks(addr, file)
	require.NoError(t, err)
	require.Len(t, hooks.Mutating, 1)
	require.Len(t, hooks.Validating, 1)
	require.NotEmpty(t, hooks.Mutating[0].Annotations[injectCAFrom])
	require.NoError(t, cp.client.Create(t.Context(), hooks.Mutating[0]))
	require.NoError(t, cp.client.Create(t.Context(), hooks.Validating[0]))
}

// caBundles checks that every webhook of both configurations trusts exactly ca.
func caBundles(t *testing.T, cp *controlPlane, ca []byte) error {
	t.Helper()
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := cp.client.Get(t.Context(), client.ObjectKey{Name: webhookConfigurationName}, mutating); err != nil {
		return err
	}
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := cp.client.Get(t.Context(), client.ObjectKey{Name: webhookConfigurationName}, validating); err != nil {
		return err
	}
	var bundles [][]byte
	for _, w := range mutating.Webhooks {
		bundles = append(bundles, w.ClientConfig.CABundle)
	}
	for _, w := range validating.Webhooks {
		bundles = append(bundles, w.ClientConfig.CABundle)
	}
	for i, bundle := range bundles {
		if !bytes.Equal(bundle, ca) {
			return fmt.Errorf("webhook %d of %d: caBundle %q", i+1, len(bundles), bundle)
		}
	}
	return nil
}

// enabledNamespace creates a namespace with injection enabled.
func enabledNamespace(t *testing.T, cp *controlPlane) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "monitoring",
		Labels: map[string]string{names.NamespaceInjectionLabel: "enabled"}}}
	require.NoError(t, cp.client.Create(t.Context(), ns))
	return ns.Name
}

// stubDaemonSet is the smallest proxy DaemonSet: a name and no containers.
func stubDaemonSet(namespace string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "DaemonSet",
		"metadata": map[string]any{"name": "proxy", "namespace": namespace},
		"spec": map[string]any{"template": map[string]any{
			"spec": map[string]any{"containers": []any{}}}},
	}}
}

// assertAdmissionOverTLS: the mutating webhooks fill a stub ConfigMap and inject a stub
// DaemonSet that mounts it, and the validating webhook denies a config that exposes more than
// /metrics.
func assertAdmissionOverTLS(t *testing.T, cp *controlPlane, ns string) {
	t.Helper()
	// The API server picks the new caBundle up from its informer: retry until it has.
	stub := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: names.DefaultConfigMap, Namespace: ns,
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}}
	poll(t, "a stub ConfigMap admitted through the webhooks", 30*time.Second, func() error {
		return cp.client.Create(t.Context(), stub.DeepCopy())
	})
	require.NoError(t, cp.client.Get(t.Context(), client.ObjectKeyFromObject(stub), stub))
	assert.Contains(t, stub.Data, names.ConfigKey, "the stub ConfigMap is filled")

	require.NoError(t, cp.client.Create(t.Context(), stubDaemonSet(ns)))
	ds := &appsv1.DaemonSet{}
	require.NoError(t, cp.client.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "proxy"}, ds))
	assert.Contains(t, ds.Annotations, names.StatusAnnotation)
	require.Len(t, ds.Spec.Template.Spec.Containers, 1)
	assert.Equal(t, names.ContainerName, ds.Spec.Template.Spec.Containers[0].Name)

	leaky := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "leaky", Namespace: ns,
			Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}},
		Data: map[string]string{names.ConfigKey: "frontend all\n  bind *:10249\n  default_backend b\nbackend b\n  server s 127.0.0.1:10249\n"},
	}
	err := cp.client.Create(t.Context(), leaky)
	require.Error(t, err, "the validating webhook denies a config that binds everywhere")
	assert.Contains(t, err.Error(), "haproxy.cfg:")
	assert.NotContains(t, err.Error(), "failed calling webhook")
}
