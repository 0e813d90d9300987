package certs_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/testtool"
)

// TestSelfSignedStartTogether: two replicas start at the same moment against no Secret at all
// and their own webhook configurations. Exactly one CA wins, both serve its certificates,
// admission works through them, and then nothing flaps: neither the Secret nor the caBundle is
// rewritten while they keep checking.
func TestSelfSignedStartTogether(t *testing.T) {
	if noControlPlane != nil {
		testtool.Missing(t, noControlPlane.Error())
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pointWebhooksAt(t, cp.WebhookAddr) // the first replica serves the package's own configurations
	const pair = "metrics-proxy-pair"
	secret := types.NamespacedName{Namespace: "default", Name: "pair-tls"}

	ports := freePorts(t, 2)
	forwarder := roundRobin(ctx, t, addrOf(ports[0]), addrOf(ports[1]))
	copyWebhookConfigurations(t, pair)
	pointWebhooksNamed(t, pair, forwarder)

	var wg sync.WaitGroup
	addrs := make([]string, 2)
	for i := range 2 {
		source, err := selfSigned(cp.Config, t.TempDir())
		require.NoError(t, err)
		source.Secret, source.WebhookConfiguration = secret, pair
		wg.Go(func() { addrs[i] = startReplicaOn(ctx, t, source, ports[i]) })
	}
	wg.Wait()

	s := &corev1.Secret{}
	require.NoError(t, cp.Client.Get(context.Background(), secret, s))
	assert.Equal(t, 1, strings.Count(string(s.Data[certs.BundleKey]), "BEGIN CERTIFICATE"), "one CA, not one per replica")
	for _, addr := range addrs {
		assert.NoError(t, servesCertOf(addr, s.Data[certs.CAKey]), "replica %s serves a certificate of the one CA", addr)
	}
	ns := proxyNamespace(t)
	for range 4 {
		require.NoError(t, dryRunStub(ns))
	}

	versions := func() []string {
		m := &admissionregistrationv1.MutatingWebhookConfiguration{}
		v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		sec := &corev1.Secret{}
		require.NoError(t, cp.Client.Get(context.Background(), client.ObjectKey{Name: pair}, m))
		require.NoError(t, cp.Client.Get(context.Background(), client.ObjectKey{Name: pair}, v))
		require.NoError(t, cp.Client.Get(context.Background(), secret, sec))
		return []string{m.ResourceVersion, v.ResourceVersion, sec.ResourceVersion}
	}
	before := versions()
	time.Sleep(2 * time.Second) // about six checks by each replica
	assert.Equal(t, before, versions(), "the replicas rewrote the Secret or a caBundle with nothing to renew")
}

func addrOf(port int) string { return "127.0.0.1:" + itoa(port) }

// copyWebhookConfigurations creates copies of the package's webhook configurations named name,
// deleted after the test.
func copyWebhookConfigurations(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	m := &admissionregistrationv1.MutatingWebhookConfiguration{}
	require.NoError(t, cp.Client.Get(ctx, client.ObjectKey{Name: "metrics-proxy"}, m))
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	require.NoError(t, cp.Client.Get(ctx, client.ObjectKey{Name: "metrics-proxy"}, v))
	m.ObjectMeta = metav1.ObjectMeta{Name: name}
	v.ObjectMeta = metav1.ObjectMeta{Name: name}
	for i := range m.Webhooks {
		m.Webhooks[i].ClientConfig.CABundle = nil
	}
	for i := range v.Webhooks {
		v.Webhooks[i].ClientConfig.CABundle = nil
	}
	require.NoError(t, cp.Client.Create(ctx, m))
	require.NoError(t, cp.Client.Create(ctx, v))
	t.Cleanup(func() {
		_ = cp.Client.Delete(ctx, m)
		_ = cp.Client.Delete(ctx, v)
	})
}
