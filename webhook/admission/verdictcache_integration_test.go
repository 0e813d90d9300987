package admission_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/names"
)

const (
	verdictReadsCache = `metrics_proxy_config_verdict_reads_total{source="cache"}`
	verdictReadsLive  = `metrics_proxy_config_verdict_reads_total{source="live"}`
)

// verdictCreate creates (dry run) the proxy DaemonSet stub name mounting cm, and returns the
// create's error and how the validating webhook judged cm: read from its verdict cache, or live.
func verdictCreate(t *testing.T, ns, name, cm string, edit func(*corev1.PodSpec)) (err error, cached, live float64) {
	t.Helper()
	c0, l0 := metricValue(t, verdictReadsCache), metricValue(t, verdictReadsLive)
	ds := proxyStub(ns, name, cm, "")
	if edit != nil {
		edit(&ds.Spec.Template.Spec)
	}
	err = cp.Client.Create(context.Background(), ds, client.DryRunAll)
	return err, metricValue(t, verdictReadsCache) - c0, metricValue(t, verdictReadsLive) - l0
}

// proxyConfig creates the labelled proxy ConfigMap name in ns, filled with the generated
// haproxy.cfg (every component).
func proxyConfig(t *testing.T, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}}
	require.NoError(t, cp.Client.Create(context.Background(), cm))
	return cm
}

// TestVerdictCache: in a namespace with injection enabled, the validating webhook of DaemonSets
// reads and validates the mounted ConfigMap live until it found a version compliant; later
// DaemonSets mounting that version are judged from the verdict cache, their own spec still
// checked; an edit of the ConfigMap, and a policy under which the remembered version no longer
// complies, send it back to a live read, whose verdict (a denial) is the policy's.
func TestVerdictCache(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled"})
	cm := proxyConfig(t, ns, "proxy-config")

	err, cached, live := verdictCreate(t, ns, "first", cm.Name, nil)
	require.NoError(t, err)
	assert.Equal(t, [2]float64{0, 1}, [2]float64{cached, live}, "the first DaemonSet mounting it: read live")
	require.Eventually(t, func() bool {
		err, cached, _ := verdictCreate(t, ns, "later", cm.Name, nil)
		return err == nil && cached == 1
	}, 15*time.Second, 100*time.Millisecond, "once the config-hash cache holds the version found compliant, its verdict is reused")

	err, cached, _ = verdictCreate(t, ns, "sidecar", cm.Name, func(s *corev1.PodSpec) {
		s.Containers = append(s.Containers, corev1.Container{Name: "sidecar", Image: "busybox"})
	})
	require.Error(t, err, "a DaemonSet's own spec is checked whatever its ConfigMap's verdict")
	assert.Contains(t, err.Error(), "sidecar")
	assert.Equal(t, 1.0, cached)

	cm.Data[names.ConfigKey] += "\n# the second version\n"
	require.NoError(t, cp.Client.Update(ctx, cm))
	require.Eventually(t, func() bool { // the cache catches up: the new version is read live once
		_, _, live := verdictCreate(t, ns, "edited", cm.Name, nil)
		return live == 1
	}, 15*time.Second, 100*time.Millisecond, "the edited ConfigMap was never read live")
	err, cached, live = verdictCreate(t, ns, "edited-again", cm.Name, nil)
	require.NoError(t, err)
	assert.Equal(t, [2]float64{1, 0}, [2]float64{cached, live}, "the new version, found compliant, is remembered")

	// Under a policy that allows kube-proxy alone, the remembered version (every component)
	// violates: the verdict found under the earlier policy is not reused.
	withPolicy(t, denyPolicy+"components: [kube-proxy]\n")
	require.Eventually(t, func() bool {
		err, _, live := verdictCreate(t, ns, "stricter", cm.Name, nil)
		return err != nil && live == 1
	}, 15*time.Second, 100*time.Millisecond, "a DaemonSet mounting a config the new policy forbids was admitted or judged from the cache")
	err, cached, live = verdictCreate(t, ns, "stricter-again", cm.Name, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "configmap/"+cm.Name+":"+names.ConfigKey)
	assert.Equal(t, [2]float64{0, 1}, [2]float64{cached, live}, "a violating version is never remembered")
}

// TestVerdictCacheOnlyWhereEnabled: outside the namespaces with injection enabled, an unlabelled
// ConfigMap that no proxy mounts yet is written unvalidated, and one deleted and created again
// unlabelled within the config-hash cache's lag would still look like the version found
// compliant: every DaemonSet there has its ConfigMap read and validated live.
func TestVerdictCacheOnlyWhereEnabled(t *testing.T) {
	needControlPlane(t)
	ns := newNamespace(t, nil)
	cm := proxyConfig(t, ns, "proxy-config")
	time.Sleep(2 * time.Second) // far longer than the config-hash cache takes to hold it
	for i := range 3 {
		err, cached, live := verdictCreate(t, ns, "opted-in-"+itoa(i), cm.Name, nil)
		require.NoError(t, err)
		assert.Equal(t, [2]float64{0, 1}, [2]float64{cached, live}, "create %d", i)
	}
}
