package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/names"
)

// TestTenantShapedDaemonSetsCostBoundedMemory: the cache's trimming (server/cache.go) was keyed
// on what a tenant writes, so a tenant who may create DaemonSets in any namespace (no injection,
// no webhook sees them) made every replica hold their full size: an annotation with our prefix
// or the label metrics-proxy.io/inject=false kept the whole spec, a summary kept every label, an
// annotation of ours was kept whatever its length (16 DaemonSets of 1 MiB: 17 to 33 MiB of heap;
// some 200 OOM-kill every replica). The whole spec is now kept only for a proxy (inject=true or
// the status annotation, not opted out), only the inject label and our known annotations,
// bounded, are kept: each such DaemonSet costs a bounded few KiB.
func TestTenantShapedDaemonSetsCostBoundedMemory(t *testing.T) {
	c := startCachingServer(t)
	const n, size = 16, 1 << 20
	pad := strings.Repeat("x", size)
	annotationPad := strings.Repeat("x", 250<<10) // annotations are capped at 256 KiB in all
	manyLabels := func() map[string]string {
		out := map[string]string{}
		for i := 0; len(out)*100 < size; i++ {
			out[fmt.Sprintf("pad.example.com/k%06d-%s", i, strings.Repeat("k", 40))] = strings.Repeat("v", 50)
		}
		return out
	}()
	tests := []struct {
		name        string
		labels      map[string]string
		annotations map[string]string
		padSpec     bool
		bytes       int // what one object carries
	}{
		{"an unknown annotation with our prefix, a padded spec", nil, map[string]string{"metrics-proxy.io/anything": ""}, true, size},
		{"opted out, a padded spec", map[string]string{names.InjectLabel: "false"}, nil, true, size},
		{"thousands of labels", manyLabels, nil, false, size},
		{"a long unknown annotation with our prefix", nil, map[string]string{"metrics-proxy.io/pad": annotationPad}, false, len(annotationPad)},
		{"a long known annotation of ours", nil, map[string]string{names.ComponentsAnnotation: annotationPad}, false, len(annotationPad)},
		{"opted out with a status, a padded spec", map[string]string{names.InjectLabel: "false"}, map[string]string{names.StatusAnnotation: "{}"}, true, size},
	}
	time.Sleep(2 * time.Second) // the caches are synced
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "redteam-cache-"}}
			require.NoError(t, c.Create(ctx, ns))
			t.Cleanup(func() {
				_ = c.DeleteAllOf(context.Background(), &appsv1.DaemonSet{}, client.InNamespace(ns.Name))
				_ = c.Delete(context.Background(), ns)
			})
			before := heapAlloc()
			for i := 0; i < n; i++ {
				sel := map[string]string{"app": fmt.Sprintf("a%d", i)}
				labels := map[string]string{"app": sel["app"]}
				for k, v := range tt.labels {
					labels[k] = v
				}
				ctr := corev1.Container{Name: "a", Image: "registry.k8s.io/pause:3.10"}
				if tt.padSpec {
					ctr.Env = []corev1.EnvVar{{Name: "PAD", Value: pad}}
				}
				ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("a%d", i), Namespace: ns.Name,
					Labels: labels, Annotations: tt.annotations},
					Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: sel},
						Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: sel}, Spec: corev1.PodSpec{
							NodeSelector: map[string]string{"no-such-node": "true"}, Containers: []corev1.Container{ctr}}}}}
				require.NoError(t, c.Create(ctx, ds))
			}
			time.Sleep(3 * time.Second) // the informers have them
			grown := int64(heapAlloc()) - int64(before)
			t.Logf("heap grew %d KiB for %d DaemonSets of %d KiB each in a namespace without injection", grown>>10, n, tt.bytes>>10)
			// Held whole, they grow the heap by n*bytes at least; the half leaves room for the
			// process's own noise (about 1 MiB under -race), which a quarter of 16 x 250 KiB did not.
			assert.Less(t, grown, int64(n*tt.bytes/2), "a tenant's unselected DaemonSets are held whole by every replica")
		})
	}
}

// TestConfigMapMetadataCostIsBounded: the rollout controller watches the metadata of every
// ConfigMap of the cluster (builder.OnlyMetadata, no selector), and the cache kept every label and
// annotation but kubectl's last-applied one: ConfigMaps with 250 KiB of annotations (what any
// tenant may create, no webhook sees them) cost the leader 250 KiB each (32 of them 9.3 MiB;
// about 1,000 OOM-kill the leader, then each replica that takes the lease). Their metadata is now
// cut to name, namespace, uid, versions and our label: a few hundred bytes each.
func TestConfigMapMetadataCostIsBounded(t *testing.T) {
	const n, size = 32, 250 << 10
	pad := strings.Repeat("x", size)
	grown := configMapsHeapGrowth(t, "redteam-cm-", n, func(i int) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("c%d", i),
			Annotations: map[string]string{"example.com/pad": pad}}, Data: map[string]string{"k": "v"}}
	})
	t.Logf("heap grew %d KiB for %d unrelated ConfigMaps with %d KiB of annotations each", grown>>10, n, size>>10)
	assert.Less(t, grown, int64(n*size/4), "every ConfigMap's annotations are held by the leader")
}

// TestLabelledConfigMapCostIsBounded: the mutating webhook's config-hash cache watches every
// ConfigMap labelled metrics-proxy.io/config=haproxy, which a tenant creates in their own
// namespaces (1 MiB each, as large as a ConfigMap may be). It keeps of each its identity and the
// hash of haproxy.cfg, never the text: each costs every replica a few hundred bytes.
func TestLabelledConfigMapCostIsBounded(t *testing.T) {
	const n, size = 16, 1<<20 - 4<<10 // a ConfigMap holds at most 1 MiB
	grown := configMapsHeapGrowth(t, "redteam-cfg-", n, func(i int) *corev1.ConfigMap {
		cfg := fmt.Sprintf("# %d\n%s\n", i, strings.Repeat("x", size))
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("c%d", i),
			Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}, Data: map[string]string{names.ConfigKey: cfg}}
	})
	t.Logf("heap grew %d KiB for %d labelled ConfigMaps of %d KiB each", grown>>10, n, size>>10)
	assert.Less(t, grown, int64(n*size/4), "every labelled ConfigMap's haproxy.cfg is held by every replica")
}

// configMapsHeapGrowth starts the caching server, creates the n ConfigMaps that configMap makes
// in a namespace of its own (named from prefix, removed at the end) once the caches are synced,
// and returns how much the heap grew once the informers have them.
func configMapsHeapGrowth(t *testing.T, prefix string, n int, configMap func(i int) *corev1.ConfigMap) int64 {
	t.Helper()
	c := startCachingServer(t)
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	require.NoError(t, c.Create(ctx, ns))
	t.Cleanup(func() {
		_ = c.DeleteAllOf(context.Background(), &corev1.ConfigMap{}, client.InNamespace(ns.Name))
		_ = c.Delete(context.Background(), ns)
	})
	time.Sleep(2 * time.Second) // the caches are synced
	before := heapAlloc()
	for i := 0; i < n; i++ {
		cm := configMap(i)
		cm.Namespace = ns.Name
		require.NoError(t, c.Create(ctx, cm))
	}
	time.Sleep(3 * time.Second) // the informers have them
	return int64(heapAlloc()) - int64(before)
}
