package admission_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
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

// memoryLimit is the Deployment's container memory limit (deploy/base).
const memoryLimit = 256 << 20

// liveListsOK is the series that counts the live lists (see admission.LiveDaemonSets).
const liveListsOK = `metrics_proxy_live_daemonset_lists_total{result="ok"}`

// TestListLookupCostThroughAPIServer: a tenant stores 60 valid proxy DaemonSets, each padded
// with a 200 KiB annotation (the validator bounds the JSON at 512 KiB, not what a list of them
// costs), then writes 32 unlabelled ConfigMaps holding haproxy.cfg at once. Each review looks for
// a proxy DaemonSet of the namespace that mounts the ConfigMap. Listing them from the API server
// decoded some 12 MB per review, 32 times at once (the in-flight bound counts reviews, not what
// their look-ups read): the heap peaked at 557-750 MiB, past the container's limit, and with
// every replica OOM-killed failurePolicy Fail stops every proxy write in the cluster. The look-up
// now reads the informer cache through an index by mounted ConfigMap, and the cache keeps no
// annotation but ours. Every write is admitted (nothing mounts them) and the heap stays low.
// The cache finding no proxy, each review is confirmed from the API server (LiveDaemonSets): the
// reviews that wait share a list, paged, in protobuf, read one DaemonSet at a time, the padding
// skipped by its length; the output counts those lists (3 here, 12 MiB of annotations each read
// by the API server) within the same peak (13-14 MiB).
func TestListLookupCostThroughAPIServer(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newNamespace(t, nil)
	kubectl(t, configMap("metrics-proxy", ns, proxyLabel, seedConfig(t)), "apply", "-f", "-")
	pad := strings.Repeat("x", 200<<10)
	const nDS = 60
	for i := 0; i < nDS; i++ {
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p%d", i), Namespace: ns,
			Labels: map[string]string{names.InjectLabel: "true"}, Annotations: map[string]string{"pad": pad}},
			Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{}}}
		require.NoError(t, cp.Client.Create(ctx, ds))
	}
	lists := metricValue(t, liveListsOK)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := make(chan struct{})
	peak := uint64(0)
	var pw sync.WaitGroup
	pw.Add(1)
	go func() {
		defer pw.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak {
					peak = m.HeapAlloc
				}
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make([]string, 32)
	start := time.Now()
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("u%d", i), Namespace: ns},
				Data: map[string]string{names.ConfigKey: "global\n"}}
			if err := cp.Client.Create(ctx, cm); err != nil {
				errs[i] = err.Error()
			}
		}(i)
	}
	wg.Wait()
	close(stop)
	pw.Wait()
	took := time.Since(start)
	lists = metricValue(t, liveListsOK) - lists
	t.Logf("base heap %d MiB, peak heap %d MiB, took %s; live path: %.0f lists of the %d DaemonSets (%d MiB of annotations a list) for the 32 reviews",
		base.HeapAlloc>>20, peak>>20, took, lists, nDS, nDS*len(pad)>>20)
	assert.Positive(t, lists, "the cache found no proxy mounting u0..u31: the API server confirms it")
	for i, e := range errs {
		assert.Empty(t, e, "ConfigMap u%d", i)
	}
	require.Less(t, peak, uint64(memoryLimit), "32 small ConfigMap writes drive the server past its memory limit")

	// The look-up still finds a proxy among them that mounts the ConfigMap: deleted and created
	// again unlabelled, a config it mounts is checked (and this one, binding every address, refused).
	kubectl(t, configMap("mounted", ns, proxyLabel, seedConfig(t)), "apply", "-f", "-")
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "mounts", Namespace: ns,
		Labels: map[string]string{names.InjectLabel: "true"}, Annotations: map[string]string{names.ConfigMapAnnotation: "mounted"}},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{}}}
	require.NoError(t, cp.Client.Create(ctx, ds))
	require.NoError(t, cp.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "mounted", Namespace: ns}}))
	bad := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "mounted", Namespace: ns},
		Data: map[string]string{names.ConfigKey: "frontend f\n  bind *:10249\n"}}
	var err error
	require.Eventually(t, func() bool {
		err = cp.Client.Create(ctx, bad.DeepCopy(), client.DryRunAll)
		return err != nil
	}, 10*time.Second, 100*time.Millisecond, "an unlabelled config a proxy mounts is admitted unchecked")
	assert.Contains(t, err.Error(), "violates the metrics-proxy policy")
}
