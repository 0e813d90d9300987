package admission_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// hashLag is how far the server's watches trail the API server while a test holds its cache
// behind a write: far longer than a create takes.
const hashLag = 3 * time.Second

const (
	hashReadsCache = `metrics_proxy_config_hash_reads_total{source="cache"}`
	hashReadsLive  = `metrics_proxy_config_hash_reads_total{source="live"}`
)

// hashReads counts the config-hash reads of the server while f runs.
func hashReads(t *testing.T, f func()) (cached, live float64) {
	t.Helper()
	c0, l0 := metricValue(t, hashReadsCache), metricValue(t, hashReadsLive)
	f()
	return metricValue(t, hashReadsCache) - c0, metricValue(t, hashReadsLive) - l0
}

// proxyStub is a proxy DaemonSet stub mounting the ConfigMap cm, its pod template carrying the
// config hash have ("": none).
func proxyStub(namespace, name, cm, have string) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace,
		Labels: map[string]string{names.InjectLabel: "true"}, Annotations: map[string]string{names.ConfigMapAnnotation: cm}}}
	if have != "" {
		ds.Spec.Template.Annotations = map[string]string{names.ConfigHashAnnotation: have}
	}
	return ds
}

// injectedHash creates ds (dry run unless persist) and returns the config hash admission wrote.
func injectedHash(t *testing.T, ds *appsv1.DaemonSet, persist bool) string {
	t.Helper()
	opts := []client.CreateOption{client.DryRunAll}
	if persist {
		opts = nil
	}
	require.NoError(t, cp.Client.Create(context.Background(), ds, opts...))
	return inject.TemplateConfigHash(ds)
}

// TestConfigHashCache: the mutating webhook reads the mounted ConfigMap's hash from its cache of
// labelled ConfigMaps, reads live what the cache does not hold yet (a ConfigMap applied just
// before its DaemonSet), never lets a cache behind a ConfigMap edit overwrite the newer hash a
// DaemonSet carries (the rollout controller's write), and serves the new hash once it caught up.
func TestConfigHashCache(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newNamespace(t, nil)

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "proxy-config", Namespace: ns,
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}}
	restore := withWatchLag(hashLag)
	require.NoError(t, cp.Client.Create(ctx, cm)) // filled with the generated haproxy.cfg
	v1 := inject.ConfigHash(cm)
	require.NotEmpty(t, v1)

	var got string
	cached, live := hashReads(t, func() { got = injectedHash(t, proxyStub(ns, "applied-after", cm.Name, ""), true) })
	assert.Equal(t, v1, got, "a ConfigMap applied just before its DaemonSet")
	assert.Equal(t, [2]float64{0, 1}, [2]float64{cached, live}, "the cache cannot hold it yet: one live read")
	restore()

	require.Eventually(t, func() bool {
		cached, _ := hashReads(t, func() { got = injectedHash(t, proxyStub(ns, "from-cache", cm.Name, ""), false) })
		return cached == 1
	}, 15*time.Second, 100*time.Millisecond, "the cache never served the ConfigMap's hash")
	assert.Equal(t, v1, got, "the hash served from the cache")

	restore = withWatchLag(hashLag)
	defer restore()
	cm.Data[names.ConfigKey] += "\n# the second version\n"
	require.NoError(t, cp.Client.Update(ctx, cm))
	v2 := inject.ConfigHash(cm)
	require.NotEqual(t, v1, v2)

	// The rollout controller writes the new hash it read live; the cache, behind, holds the
	// old one: the webhook reads live and keeps the new hash.
	cached, live = hashReads(t, func() { got = injectedHash(t, proxyStub(ns, "rollout", cm.Name, v2), false) })
	assert.Equal(t, v2, got, "a cache behind the ConfigMap's edit overwrote the rollout controller's hash")
	assert.Equal(t, [2]float64{0, 1}, [2]float64{cached, live}, "a DaemonSet carrying another hash is read live")
	// Any other hash the DaemonSet carries is replaced by the live one.
	got = injectedHash(t, proxyStub(ns, "old-hash", cm.Name, "0123456789abcdef"), false)
	assert.Equal(t, v2, got)
	// A new DaemonSet in the watch's lag gets the hash the cache holds (the previous one; the
	// rollout controller, reading live, corrects it): the cache is what served it.
	cached, _ = hashReads(t, func() { got = injectedHash(t, proxyStub(ns, "in-lag", cm.Name, ""), false) })
	assert.Equal(t, [2]string{v1, "cache"}, [2]string{got, map[bool]string{true: "cache", false: "live"}[cached == 1]})
	restore()

	require.Eventually(t, func() bool {
		cached, _ := hashReads(t, func() { got = injectedHash(t, proxyStub(ns, "caught-up", cm.Name, ""), false) })
		return cached == 1 && got == v2
	}, 15*time.Second, 100*time.Millisecond, "once the cache caught up, it serves the new hash (last: %q)", got)
}
