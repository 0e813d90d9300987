package admission_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/names"
)

// podRaceAttempts bounds the race with the DaemonSet controller: so many attempts (each its own
// ConfigMap and DaemonSet), within podRaceTime.
const (
	podRaceAttempts = 16
	podRaceTime     = 2 * time.Minute
)

// TestPodRaceWithDaemonSetController races the real DaemonSet controller
// (kube-controller-manager from bin/, one registered node) as the red team raced the validators:
// a labelled, compliant ConfigMap exists, a proxy DaemonSet mounting it is created and, while its
// creation is held after our validator read the ConfigMap (the delay hook, at several points of
// the hold), the ConfigMap is deleted and created again unlabelled with a config that leaks
// kube-proxy's port. Every attempt whose DaemonSet was stored on the swapped config must end with
// the controller's pod refused (its FailedCreate event names the pod validator), and no pod may
// ever exist on a hostile config. Without the pod validator the controller's pod is admitted in
// every such attempt.
func TestPodRaceWithDaemonSetController(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	daemonSetController(t)
	ns := cachedNamespace(t)
	hook := newDelayHook(t, ns)
	leaky, _ := allowBypass(t)

	won, refused, escaped := 0, 0, []string{}
	deadline := time.Now().Add(podRaceTime)
	for i := 0; i < podRaceAttempts && time.Now().Before(deadline); i++ {
		cm, dsName := fmt.Sprintf("c%d", i), fmt.Sprintf("d%d", i)
		createLabelled(t, ns, cm)
		ds := newProxy(ns, dsName, cm)
		err := hook.createHeld(t, ds, time.Duration(i%4)*100*time.Millisecond, func() {
			if cp.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cm, Namespace: ns}}) == nil {
				_ = cp.Client.Create(ctx, unlabelled(ns, cm, leaky))
			}
		})
		if err != nil {
			require.Contains(t, err.Error(), "violates the metrics-proxy policy", "attempt %d", i)
			continue // our validator read the swapped ConfigMap
		}
		if !leaksInto(t, ns, dsName, cm, leaky) {
			require.NoError(t, cp.Client.Delete(ctx, ds))
			continue
		}
		won++
		switch outcome := controllerOutcome(t, ns, dsName, 15*time.Second); outcome {
		case "refused":
			refused++
		case "pod":
			escaped = append(escaped, fmt.Sprintf("attempt %d: the controller's pod of %s runs the unchecked ConfigMap %s", i, dsName, cm))
		default:
			t.Errorf("attempt %d: the DaemonSet controller neither created a pod of %s nor was refused one", i, dsName)
		}
		require.NoError(t, cp.Client.Delete(ctx, ds)) // no more retries
	}
	t.Logf("%d races stored a proxy on a swapped, hostile ConfigMap; the controller's pod was refused in %d, admitted in %d",
		won, refused, len(escaped))
	assert.Empty(t, escaped, "a proxy's pod was admitted on a config no validator read")
	require.Positive(t, won, "no attempt stored a proxy on a swapped ConfigMap: the race was not run")
	var pods corev1.PodList
	require.NoError(t, cp.Client.List(ctx, &pods, client.InNamespace(ns)))
	for _, pod := range pods.Items { // the controller may create pods after a DaemonSet's deletion
		for _, vol := range pod.Spec.Volumes {
			var got corev1.ConfigMap
			if vol.ConfigMap == nil || cp.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: vol.ConfigMap.Name}, &got) != nil {
				continue
			}
			assert.NotEqual(t, leaky, got.Data[names.ConfigKey], "pod %s runs a hostile config", pod.Name)
		}
	}
}

// TestEarlierTemplatesConfigStaysChecked: a proxy's template moves from ConfigMap a to b under
// updateStrategy OnDelete, so its pod keeps running the template that mounts a (as during any
// rollout). No proxy's template mounts a any more, but its pod does: a deleted and created again
// unlabelled, leaking kube-proxy's port, is refused (the live look-up reads the proxy's
// ControllerRevisions, which the DaemonSet controller keeps while a pod runs them). Before, it
// was admitted unread, and the pod's next container start ran it.
func TestEarlierTemplatesConfigStaysChecked(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	daemonSetController(t)
	ns := cachedNamespace(t)
	leaky, line := allowBypass(t)
	createLabelled(t, ns, "a")
	createLabelled(t, ns, "b")
	ds := newProxy(ns, "proxy", "a")
	ds.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	require.NoError(t, cp.Client.Create(ctx, ds))
	require.Equal(t, "pod", controllerOutcome(t, ns, ds.Name, 15*time.Second), "the controller's pod of the proxy")

	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error { // the controller writes its status
		if err := cp.Client.Get(ctx, client.ObjectKeyFromObject(ds), ds); err != nil {
			return err
		}
		ds.Annotations[names.ConfigMapAnnotation] = "b"
		return cp.Client.Update(ctx, ds)
	}))
	require.Equal(t, []string{"b"}, admission.MountedConfigMaps(ds), "the template mounts b only")
	var pods corev1.PodList
	require.NoError(t, cp.Client.List(ctx, &pods, client.InNamespace(ns)))
	require.Len(t, pods.Items, 1)
	require.Equal(t, []string{"a"}, admission.MountedConfigMaps(&appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{
		Template: corev1.PodTemplateSpec{Spec: pods.Items[0].Spec}}}), "OnDelete: the pod keeps the template that mounts a")
	time.Sleep(time.Second) // the server's cache has the new template: the live look-up decides

	require.NoError(t, cp.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: ns}}))
	err := cp.Client.Create(ctx, unlabelled(ns, "a", leaky))
	require.Error(t, err, "the config of a running proxy pod was replaced unread")
	assert.Contains(t, err.Error(), "haproxy.cfg:"+itoa(line)+": ")
}

// daemonSetController runs the real DaemonSet controller (kube-controller-manager from bin/)
// and registers a node for it, both until the end of the test.
func daemonSetController(t *testing.T) {
	t.Helper()
	assets, err := harness.Assets()
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(assets, "kube-controller-manager")); err != nil {
		testtool.Missing(t, "kube-controller-manager missing in "+assets+": make control-plane")
	}
	kcm, err := cp.StartComponent(assets, "kube-controller-manager", "--controllers=daemonset-controller",
		"--use-service-account-credentials=false", "--leader-elect=false")
	require.NoError(t, err)
	t.Cleanup(func() {
		kcm.Stop()
		if t.Failed() {
			t.Logf("kube-controller-manager:\n%s", kcm.Output())
		}
	})
	registerTaintedNode(t)
}

// controllerOutcome waits for the DaemonSet controller to act on the DaemonSet dsName: "pod"
// when a pod of it exists, "refused" when an event says the pod validator refused its pod, ""
// when neither happened within d.
func controllerOutcome(t *testing.T, ns, dsName string, d time.Duration) string {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		var pods corev1.PodList
		require.NoError(t, cp.Client.List(ctx, &pods, client.InNamespace(ns)))
		for _, pod := range pods.Items {
			if ref := metav1.GetControllerOf(&pod); ref != nil && ref.Name == dsName {
				return "pod"
			}
		}
		var events corev1.EventList
		require.NoError(t, cp.Client.List(ctx, &events, client.InNamespace(ns)))
		for _, e := range events.Items {
			if e.InvolvedObject.Name == dsName && e.Reason == "FailedCreate" &&
				strings.Contains(e.Message, `"pods.validate.metrics-proxy.io" denied the request`) {
				return "refused"
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ""
}

// registerTaintedNode registers a ready node that only the proxies of these tests tolerate
// (testTaint), removed after the test.
func registerTaintedNode(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{GenerateName: "podcheck-",
		Labels: map[string]string{"kubernetes.io/os": "linux"}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: testTaint, Effect: corev1.TaintEffectNoSchedule}}}}
	require.NoError(t, cp.Client.Create(ctx, node))
	t.Cleanup(func() { _ = cp.Client.Delete(context.Background(), node) })
	capacity := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"),
		corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("110")}
	now := metav1.Now()
	node.Status = corev1.NodeStatus{Capacity: capacity, Allocatable: capacity,
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}}}
	require.NoError(t, cp.Client.Status().Update(ctx, node))
	// The API server taints a new node not-ready until its kubelet says otherwise; no kubelet here.
	var kept []corev1.Taint
	for _, taint := range node.Spec.Taints {
		if taint.Key != corev1.TaintNodeNotReady {
			kept = append(kept, taint)
		}
	}
	node.Spec.Taints = kept
	require.NoError(t, cp.Client.Update(ctx, node))
}
