package server_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/controller"
)

// TestUnrelatedDaemonSetsCostNoMemory: serve (with its day-two controllers, as deployed) caches
// every DaemonSet of the cluster. It kept them whole, managedFields and all, whether or not the
// webhook selects them: a tenant who may create DaemonSets anywhere (no proxy, no label) grew
// every replica that leads by what they store, 40 DaemonSets of 1 MiB some 44 MiB of heap here,
// 250 of them more than the 256 MiB limit. The cache now keeps a summary of a DaemonSet that is
// no proxy (see server/cache.go): ordinary DaemonSets cost next to nothing.
func TestUnrelatedDaemonSetsCostNoMemory(t *testing.T) {
	c := startCachingServer(t)
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "cache-cost-"}}
	require.NoError(t, c.Create(ctx, ns))
	t.Cleanup(func() { _ = c.Delete(context.Background(), ns) })

	time.Sleep(2 * time.Second) // the caches are synced
	before := heapAlloc()
	const n, size = 40, 1 << 20
	pad := strings.Repeat("x", size)
	for i := 0; i < n; i++ {
		labels := map[string]string{"app": fmt.Sprintf("a%d", i)}
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("a%d", i), Namespace: ns.Name},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "a", Image: "registry.k8s.io/pause:3.10",
						Env: []corev1.EnvVar{{Name: "PAD", Value: pad}}}}}}}}
		require.NoError(t, c.Create(ctx, ds))
	}
	time.Sleep(3 * time.Second) // the informers have them
	after := heapAlloc()
	grown := int64(after) - int64(before)
	t.Logf("heap before %d MiB, after %d MiB: %d MiB for %d MiB of unrelated DaemonSets", before>>20, after>>20, grown>>20, n*size>>20)
	assert.Less(t, grown, int64(n*size/4), "unrelated DaemonSets are held in memory")
}

// startCachingServer starts serve as deployed (with its day-two controllers, so with every cache
// they read) and returns a client of the control plane, for the cache-cost tests.
func startCachingServer(t *testing.T) client.Client {
	t.Helper()
	needControlPlane(t)
	startServer(t, cfg, "", func(o *server.Options) {
		o.Controllers = &controller.Options{AuditInterval: time.Hour, Reinject: controller.ReinjectStale}
	})
	c, err := client.New(cfg, client.Options{})
	require.NoError(t, err)
	return c
}

// heapAlloc returns the bytes of live heap after a collection.
func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
