package controller_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestTLSSecretRenewalRollsProxy (serve --tls-secret-rollout, on in this package's webhook
// server and controllers): a proxy serving its TLS frontends from metrics-proxy.io/tls-secret
// carries, from injection, a config hash that covers the Secret; a renewed certificate in the
// Secret makes the controller write the new hash once (the daemonset controller then rolls the
// pods); a change of the Secret's labels only writes nothing; the ConfigMap still counts.
func TestTLSSecretRenewalRollsProxy(t *testing.T) {
	needControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), rolloutTimeout)
	defer cancel()
	ns := newNamespace(t, ctx, "tls-secret", true)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "frontend"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: []byte("certificate one"), corev1.TLSPrivateKeyKey: []byte("key one")}}
	require.NoError(t, cp.Client.Create(ctx, secret))
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: names.DefaultConfigMap,
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}}
	require.NoError(t, cp.Client.Create(ctx, cm), "the webhook fills the config, TLS frontends by default")
	const name = "proxy"
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		Annotations: map[string]string{names.TLSSecretAnnotation: secret.Name}},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{}}}}}
	require.NoError(t, cp.Client.Create(ctx, ds))
	require.Equal(t, secret.Name, inject.MountedTLSSecret(ds), "the frontends serve the Secret")
	want := inject.ConfigHashWithSecret(cm, secret)
	require.NotEqual(t, inject.ConfigHash(cm), want)
	assert.Equal(t, want, inject.TemplateConfigHash(ds), "the hash set at injection covers the Secret")
	time.Sleep(2 * time.Second) // anything the controller would write about a fresh proxy, it writes now
	assert.Zero(t, writer.writes("patch", ns, name), "a fresh proxy needs no write")

	waitHash := func(want, why string) {
		t.Helper()
		assert.Eventually(t, func() bool { return inject.TemplateConfigHash(getDaemonSet(t, ctx, ns, name)) == want },
			20*time.Second, 100*time.Millisecond, why)
	}
	secret.Data[corev1.TLSCertKey] = []byte("certificate two")
	require.NoError(t, cp.Client.Update(ctx, secret), "the certificate renewed")
	renewed := inject.ConfigHashWithSecret(cm, secret)
	waitHash(renewed, "a renewed certificate rolls the proxy")
	time.Sleep(2 * time.Second)
	assert.Equal(t, 1, writer.writes("patch", ns, name), "one write for the renewal")

	secret.Labels = map[string]string{"renewed-by": "test"}
	require.NoError(t, cp.Client.Update(ctx, secret))
	time.Sleep(2 * time.Second)
	assert.Equal(t, 1, writer.writes("patch", ns, name), "the Secret's metadata alone rolls nothing")

	cm.Data[names.ConfigKey] += "\n"
	require.NoError(t, cp.Client.Update(ctx, cm))
	waitHash(inject.ConfigHashWithSecret(cm, secret), "the ConfigMap still counts")
	assert.Equal(t, 2, writer.writes("patch", ns, name))
}
