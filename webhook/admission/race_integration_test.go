package admission_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// raceAttempts bounds each race: so many attempts, each against its own ConfigMap and DaemonSet.
const raceAttempts = 50

// cacheLag is how far the server's cache trails the API server in these races: its watches are
// delayed so (see lagWatches), as a loaded API server or replica may delay them.
const cacheLag = 150 * time.Millisecond

// TestCacheWindowRacesThroughAPIServer races a proxy DaemonSet against the unlabelled, leaky
// ConfigMap it mounts, outside a namespace with injection enabled, where such a ConfigMap is
// checked only when a proxy mounts it and the ConfigMap validator's cache trails the API server:
//
//   - parallel: the DaemonSet and the leaky ConfigMap are created at once, the ConfigMap not
//     existing before;
//   - recreate: a labelled, valid ConfigMap exists; the DaemonSet is created and, right after
//     (or while it is being created), the ConfigMap is deleted and created again unlabelled and
//     leaky;
//   - relabel: likewise, but the ConfigMap is updated: its label removed with its haproxy.cfg
//     (the only way the policy lets the label go), then the leaky haproxy.cfg written back.
//
// No attempt may end with the DaemonSet stored and mounting the leaky config. Without the live
// look-up (ConfigMapValidator.Live nil), recreate and relabel ended so in every attempt whose
// DaemonSet was admitted (26 of 26, 37 of 37): the cache had not seen the DaemonSet yet. parallel
// is refused by the DaemonSet validator (a missing or unlabelled ConfigMap), before and after.
func TestCacheWindowRacesThroughAPIServer(t *testing.T) {
	needControlPlane(t)
	leaky, _ := allowBypass(t)
	var ns string // each race's own
	ctx := context.Background()
	races := []struct {
		name string
		run  func(i int, ds *appsv1.DaemonSet, cm string) (dsErr error)
	}{
		{"parallel", func(i int, ds *appsv1.DaemonSet, cm string) error {
			var dsErr error
			both(func() { dsErr = cp.Client.Create(ctx, ds) }, func() {
				_ = cp.Client.Create(ctx, unlabelled(ns, cm, leaky))
			})
			return dsErr
		}},
		{"recreate", func(i int, ds *appsv1.DaemonSet, cm string) error {
			createLabelled(t, ns, cm)
			return racePersisted(i, ds, func() {
				if cp.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cm, Namespace: ns}}) == nil {
					_ = cp.Client.Create(ctx, unlabelled(ns, cm, leaky))
				}
			})
		}},
		{"relabel", func(i int, ds *appsv1.DaemonSet, cm string) error {
			createLabelled(t, ns, cm)
			return racePersisted(i, ds, func() {
				var got corev1.ConfigMap
				if cp.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: cm}, &got) != nil {
					return
				}
				delete(got.Labels, names.ConfigLabel) // allowed once haproxy.cfg goes with it
				delete(got.Data, names.ConfigKey)
				if cp.Client.Update(ctx, &got) != nil {
					return
				}
				got.Data = map[string]string{names.ConfigKey: leaky}
				_ = cp.Client.Update(ctx, &got)
			})
		}},
	}
	for _, race := range races {
		t.Run(race.name, func(t *testing.T) {
			ns = newNamespace(t, nil)
			require.Eventually(t, func() bool { // the namespace is in the cache, before the lag
				return cp.Client.Create(ctx, unlabelled(ns, "probe", leaky), client.DryRunAll) == nil
			}, 10*time.Second, 50*time.Millisecond)
			defer withWatchLag(cacheLag)()
			admitted, escaped := 0, []string{}
			deadline := time.Now().Add(2 * time.Minute)
			for i := 0; i < raceAttempts && time.Now().Before(deadline); i++ {
				cm, dsName := fmt.Sprintf("%s-c%d", race.name, i), fmt.Sprintf("%s-d%d", race.name, i)
				ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: dsName, Namespace: ns,
					Labels: map[string]string{names.InjectLabel: "true"}, Annotations: map[string]string{names.ConfigMapAnnotation: cm}}}
				if err := race.run(i, ds, cm); err != nil {
					require.Contains(t, err.Error(), "violates the metrics-proxy policy", "attempt %d", i)
					continue
				}
				admitted++
				if leaksInto(t, ns, dsName, cm, leaky) {
					escaped = append(escaped, fmt.Sprintf("attempt %d: DaemonSet %s mounts the unchecked ConfigMap %s", i, dsName, cm))
				}
			}
			t.Logf("%s: %d DaemonSets admitted, %d mount an unchecked leaky config", race.name, admitted, len(escaped))
			assert.Empty(t, escaped, "a proxy DaemonSet mounts a leaky config that was never checked")
		})
	}
}

// both runs a and b at once and waits for them.
func both(a, b func()) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a() }()
	go func() { defer wg.Done(); b() }()
	wg.Wait()
}

// racePersisted creates ds and runs swap: on even attempts right after the DaemonSet is stored,
// in the cache's window; on odd ones at once, i%5 ms into the DaemonSet's creation.
func racePersisted(i int, ds *appsv1.DaemonSet, swap func()) error {
	if i%2 == 0 {
		err := cp.Client.Create(context.Background(), ds)
		swap()
		return err
	}
	var err error
	both(func() { err = cp.Client.Create(context.Background(), ds) }, func() {
		time.Sleep(time.Duration(i%5) * time.Millisecond)
		swap()
	})
	return err
}

// createLabelled creates a labelled stub ConfigMap, which the filler completes with the
// generated config.
func createLabelled(t testing.TB, ns, name string) {
	t.Helper()
	require.NoError(t, cp.Client.Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: ns, Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}}))
}

// unlabelled is an unlabelled ConfigMap holding cfg.
func unlabelled(ns, name, cfg string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data: map[string]string{names.ConfigKey: cfg}}
}

// leaksInto reports whether the stored DaemonSet is a proxy that mounts the ConfigMap cm and cm
// holds the leaky config, unlabelled (the validators never checked it).
func leaksInto(t *testing.T, ns, dsName, cm, leaky string) bool {
	t.Helper()
	ctx := context.Background()
	var ds appsv1.DaemonSet
	require.NoError(t, cp.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: dsName}, &ds))
	var got corev1.ConfigMap
	err := cp.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: cm}, &got)
	if apierrors.IsNotFound(err) {
		return false
	}
	require.NoError(t, err)
	mounts := false
	for _, v := range ds.Spec.Template.Spec.Volumes {
		mounts = mounts || (v.ConfigMap != nil && v.ConfigMap.Name == cm)
	}
	return mounts && !inject.IsProxyConfig(&got) && got.Data[names.ConfigKey] == leaky
}
