package admission_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// testTaint keeps the pods of other tests' DaemonSets off the node the race test registers.
const testTaint = "metrics-proxy.io/podcheck-test"

// newProxy is a proxy DaemonSet stub (labelled metrics-proxy.io/inject=true, the injector
// completes it) mounting the ConfigMap cm, tolerating testTaint.
func newProxy(ns, name, cm string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
		Labels: map[string]string{names.InjectLabel: "true"}, Annotations: map[string]string{names.ConfigMapAnnotation: cm}},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Tolerations: []corev1.Toleration{{Key: testTaint, Operator: corev1.TolerationOpExists}}}}}}
}

// podOf is the pod the DaemonSet controller creates for ds (stored, so injected): its template,
// a generated name, and ds as its controller.
func podOf(ds *appsv1.DaemonSet) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: ds.Name + "-", Namespace: ds.Namespace,
		Labels: ds.Spec.Template.Labels, Annotations: ds.Spec.Template.Annotations,
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: *ds.Spec.Template.Spec.DeepCopy()}
}

// podReviews counts the reviews our server received on the pods path, whatever their answer.
func podReviews(t *testing.T) float64 {
	t.Helper()
	sum := 0.0
	for _, line := range strings.Split(httpGet(t, "http://"+cp.MetricsAddr+"/metrics").body, "\n") {
		if strings.HasPrefix(line, "controller_runtime_webhook_requests_total{") &&
			strings.Contains(line, `webhook="`+admission.ValidatePodPath+`"`) {
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			require.NoError(t, err, line)
			sum += v
		}
	}
	return sum
}

// swappedProxy reaches, through the real API server, the state the race leaves behind: a proxy
// DaemonSet stored while its ConfigMap was swapped for an unlabelled one holding cfg, which no
// validator read (the swap happens while the delay hook holds the DaemonSet's creation, after
// our validator read the labelled one). It returns the stored DaemonSet.
func swappedProxy(t *testing.T, hook *delayHook, ns, name, cm, cfg string) *appsv1.DaemonSet {
	t.Helper()
	ctx := context.Background()
	for attempt := range 5 {
		dsName := fmt.Sprintf("%s-%d", name, attempt)
		createLabelled(t, ns, cm)
		err := hook.createHeld(t, newProxy(ns, dsName, cm), 300*time.Millisecond, func() {
			require.NoError(t, cp.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cm, Namespace: ns}}))
			require.NoError(t, cp.Client.Create(ctx, unlabelled(ns, cm, cfg)), "no proxy is stored yet: admitted unread")
		})
		if err == nil {
			require.True(t, leaksInto(t, ns, dsName, cm, cfg), "the swap was not seen")
			return getDaemonSet(t, ns, dsName)
		}
		t.Logf("attempt %d: the DaemonSet validator saw the swap: %v", attempt, err)
		require.NoError(t, cp.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cm, Namespace: ns}}))
	}
	t.Fatal("no attempt stored a proxy with a swapped ConfigMap")
	return nil
}

// cachedNamespace creates a namespace like newNamespace and returns once the server's cache
// has it (the ConfigMap validator reads namespace labels from it; before, a review fails).
func cachedNamespace(t *testing.T) string {
	t.Helper()
	ns := newNamespace(t, nil)
	require.Eventually(t, func() bool {
		return cp.Client.Create(context.Background(), unlabelled(ns, "probe", "global\n"), client.DryRunAll) == nil
	}, 10*time.Second, 50*time.Millisecond)
	return ns
}

// ordinaryMounting is a DaemonSet that is no proxy (no injection: labels hold no inject=true,
// or inject=false) and runs haproxy on the ConfigMap cm, as a proxy would.
func ordinaryMounting(ns, name, cm string, labels map[string]string) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{inject.Container(inject.Settings{ConfigMap: cm, Image: "haproxy:3.0"}, inject.DefaultResources())},
					Volumes: []corev1.Volume{inject.Volume(cm)}}}}}
	return ds
}
