package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestAPIServerBlackholed: with a blackholing forwarder between the webhook server and the API
// server (the API server still reaches the webhook), /readyz turns unready; through the API
// server, a DaemonSet that needs no lookup is still admitted (mutation reads its namespace from
// the cache), and one whose ConfigMap must be read is refused with our error, inside the
// webhooks' 5 s timeout, not with the API server's timeout. Restored, everything answers again.
func TestAPIServerBlackholed(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	api, err := url.Parse(cfg.Host)
	require.NoError(t, err)
	fwd := newForwarder(t, api.Host)
	viaForwarder := rest.CopyConfig(cfg)
	viaForwarder.Host = "https://" + fwd.addr
	r := startServer(t, viaForwarder, "exemptNamespaces: [outage-exempt]\n", nil)
	c, err := client.New(cfg, client.Options{})
	require.NoError(t, err)
	registerWebhooks(t, c, r)

	for _, name := range []string{"outage-exempt", "outage-plain"} {
		require.NoError(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
		t.Cleanup(func() { _ = c.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}) })
	}
	require.NoError(t, c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: names.DefaultConfigMap, Namespace: "outage-plain",
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}}))
	stub := func(name, namespace string) *appsv1.DaemonSet {
		return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace,
			Labels: map[string]string{names.InjectLabel: "true"}}}
	}
	// Before the outage: admitted, and the mutation's namespace cache is warm.
	require.NoError(t, c.Create(ctx, stub("before", "outage-plain"), client.DryRunAll))
	require.NoError(t, c.Create(ctx, stub("before", "outage-exempt"), client.DryRunAll))

	fwd.blackhole()
	require.Eventually(t, func() bool {
		status, _ := get(t, "http://"+r.probes+"/readyz")
		return status != http.StatusOK
	}, 30*time.Second, 200*time.Millisecond, "/readyz stayed ready while the API server was unreachable")
	_, body := get(t, "http://"+r.probes+"/readyz?verbose")
	assert.Contains(t, body, "[-]apiserver failed")

	exempt := stub("during", "outage-exempt")
	require.NoError(t, c.Create(ctx, exempt, client.DryRunAll), "no lookup needed: admitted during the outage")
	assert.Contains(t, exempt.Annotations, names.StatusAnnotation, "and injected")

	err = c.Create(ctx, stub("during", "outage-plain"), client.DryRunAll)
	require.Error(t, err, "the mounted ConfigMap cannot be read: refused")
	assert.Contains(t, err.Error(), "no answer from the API server within 2s", "our bounded lookup answered, not the API server's timeout")

	fwd.restore()
	require.NoError(t, harness.WaitReady(ctx, "http://"+r.probes+"/readyz", 60*time.Second, nil), "ready again once restored")
	require.Eventually(t, func() bool {
		return c.Create(ctx, stub("after", "outage-plain"), client.DryRunAll) == nil
	}, 60*time.Second, 500*time.Millisecond, "admitted again once restored")
}

// registerWebhooks installs deploy/base's webhook configurations pointed at r, trusting its
// certificate, for the rest of the test.
func registerWebhooks(t *testing.T, c client.Client, r *running) {
	t.Helper()
	ctx := context.Background()
	hooks, err := harness.LoadWebhooks(r.addr, harness.WebhookManifests()...)
	require.NoError(t, err)
	var objs []client.Object
	for _, m := range hooks.Mutating {
		for i := range m.Webhooks {
			m.Webhooks[i].ClientConfig.CABundle = r.caPEM
		}
		objs = append(objs, m)
	}
	for _, v := range hooks.Validating {
		for i := range v.Webhooks {
			v.Webhooks[i].ClientConfig.CABundle = r.caPEM
		}
		objs = append(objs, v)
	}
	for _, o := range objs {
		require.NoError(t, c.Create(ctx, o))
		t.Cleanup(func() { _ = c.Delete(ctx, o) })
	}
	// The API server picks configurations up asynchronously: wait until a stub is injected.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "hooks-"}}
	require.NoError(t, c.Create(ctx, ns))
	t.Cleanup(func() { _ = c.Delete(ctx, ns) })
	require.NoError(t, c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: names.DefaultConfigMap, Namespace: ns.Name,
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}}))
	require.Eventually(t, func() bool {
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: ns.Name, Labels: map[string]string{names.InjectLabel: "true"}}}
		return c.Create(ctx, ds, client.DryRunAll) == nil && strings.Contains(ds.Annotations[names.StatusAnnotation], "server-test")
	}, 30*time.Second, 200*time.Millisecond, "the webhooks were never called")
	_ = admissionregistrationv1.SchemeGroupVersion
	_ = inject.Config{}
}
