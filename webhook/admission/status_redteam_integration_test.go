package admission_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestStatusEntryUnderManyKeys (red team of the status entry): a DaemonSet carrying thousands of
// labels and annotations with our prefix (opted out, so that no webhook bounds its size; the
// annotations at the API server's 256 KiB cap) costs its match condition the most. The
// controller's status writes on it must still be admitted without calling the server (a match
// condition that errors, out of its cost budget say, would refuse them under failurePolicy Fail),
// and a change of one key of ours among them is still refused.
func TestStatusEntryUnderManyKeys(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newProxyNamespace(t, nil)
	for _, n := range []int{100, 2000, 12000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			name := fmt.Sprintf("keys%d", n)
			kubectl(t, manifestOf(ordinary, name, ns, names.InjectLabel+`: "false"`), "apply", "-f", "-")
			var labels, annotations []string
			for i := range n {
				labels = append(labels, fmt.Sprintf(`"%sl%05d":"%s"`, names.Prefix, i, strings.Repeat("v", 40)))
				if i < 6000 { // 6,000 of 40 bytes: 240 KiB, under the 256 KiB cap on annotations
					annotations = append(annotations, fmt.Sprintf(`"%sa%05d":"%s"`, names.Prefix, i, strings.Repeat("v", 10)))
				}
			}
			ds := getDaemonSet(t, ns, name)
			body := `{"metadata":{"labels":{` + strings.Join(labels, ",") + `},"annotations":{` + strings.Join(annotations, ",") + `}}}`
			require.NoError(t, cp.Client.Patch(ctx, ds, rawMerge(body)), "the keys, through the DaemonSet itself")

			reviews := statusReviews(t)
			ds = getDaemonSet(t, ns, name)
			ds.Status.DesiredNumberScheduled = 3
			require.NoError(t, cp.Client.Status().Update(ctx, ds), "a controller's status write")
			assert.Equal(t, reviews, statusReviews(t), "the status write did not reach the server")

			err := statusPatch(ctx, getDaemonSet(t, ns, name), types.MergePatchType,
				fmt.Sprintf(`{"metadata":{"labels":{"%sl%05d":"changed"}}}`, names.Prefix, n-1))
			require.Error(t, err)
			assert.ErrorContains(t, err, string(policy.RuleStatusMetadata))
			assert.Equal(t, reviews+1, statusReviews(t))
		})
	}
}

// rawMerge is a JSON merge patch of body.
func rawMerge(body string) client.Patch { return client.RawPatch(types.MergePatchType, []byte(body)) }

// TestInjectedProxyOutsideTheSelectionStaysWritable (what the annotated entry must not break): a
// proxy injected while its namespace had injection enabled, mounting an unlabelled ConfigMap,
// after an admin removes the namespace label. Its writes now reach the annotated entry: a
// rollout-like patch of its pod template (what the rollout controller writes) and a re-apply of
// the same object are admitted; a change of its spec that the policy refuses is refused; a status
// annotation rewritten by hand is refused.
func TestInjectedProxyOutsideTheSelectionStaysWritable(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled"})
	kubectl(t, configMap("plain", ns, "", seedConfig(t)), "apply", "-f", "-")
	kubectl(t, strings.Replace(manifestOf(stub, "proxy", ns, ""), "metadata:\n",
		"metadata:\n  annotations: {metrics-proxy.io/config-map: plain}\n", 1), "apply", "-f", "-")
	require.Contains(t, getDaemonSet(t, ns, "proxy").Annotations, names.StatusAnnotation, "injected")
	kubectl(t, "", "label", "namespace", ns, names.NamespaceInjectionLabel+"-")

	patch := func(body string) error { return cp.Client.Patch(ctx, getDaemonSet(t, ns, "proxy"), rawMerge(body)) }
	// While the API server still sees the namespace enabled, the injector rewrites a hand-written
	// status annotation; once it sees the label gone, the annotated entry refuses it.
	var err error
	require.Eventually(t, func() bool {
		err = patch(`{"metadata":{"annotations":{"` + names.StatusAnnotation + `":"{\"version\":\"x\",\"hash\":\"00\"}"}}}`)
		return err != nil
	}, 30*time.Second, 200*time.Millisecond, "a hand-written status annotation is never refused")
	assert.ErrorContains(t, err, string(policy.RuleStatusAnnotation))

	require.NoError(t, patch(`{"spec":{"template":{"metadata":{"annotations":{"`+names.ConfigHashAnnotation+`":"rolled"}}}}}`),
		"the rollout controller's patch")
	assert.Equal(t, "rolled", getDaemonSet(t, ns, "proxy").Spec.Template.Annotations[names.ConfigHashAnnotation])
	require.NoError(t, cp.Client.Update(ctx, getDaemonSet(t, ns, "proxy")), "a re-apply of the same object")

	err = patch(`{"spec":{"template":{"spec":{"hostNetwork":false}}}}`)
	require.Error(t, err, "the proxy is still validated as one")
	assert.ErrorContains(t, err, string(policy.RuleHostNetwork))
}

// TestForegroundDeletionOfARefusedProxyCompletes (what a red-team pass found the validating
// entries break): a proxy the policy would refuse now (its ConfigMap deleted), deleted with a
// finalizer (as foreground deletion does): the finalizer's removal, which changes nothing else,
// was refused, and the DaemonSet stayed terminating. It is admitted now; a change of its spec or
// of a label of ours while it is being deleted is still reviewed.
func TestForegroundDeletionOfARefusedProxyCompletes(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newProxyNamespace(t, nil)
	kubectl(t, manifestOf(stub, "fin", ns, names.InjectLabel+`: "true"`), "apply", "-f", "-")
	ds := getDaemonSet(t, ns, "fin")
	ds.Finalizers = []string{"example.com/hold"}
	require.NoError(t, cp.Client.Update(ctx, ds))
	kubectl(t, "", "delete", "configmap", names.DefaultConfigMap, "-n", ns)
	require.NoError(t, cp.Client.Delete(ctx, getDaemonSet(t, ns, "fin")))
	require.NotNil(t, getDaemonSet(t, ns, "fin").DeletionTimestamp)

	err := cp.Client.Patch(ctx, getDaemonSet(t, ns, "fin"), client.RawPatch(types.JSONPatchType,
		[]byte(`[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"extra","image":"busybox"}}]`)))
	require.Error(t, err, "a spec change while it is being deleted")
	assert.ErrorContains(t, err, string(policy.RuleOtherContainer))
	err = cp.Client.Patch(ctx, getDaemonSet(t, ns, "fin"), rawMerge(`{"metadata":{"labels":{"`+names.InjectLabel+`":null}}}`))
	require.Error(t, err, "the opt-in label removed while it is being deleted")
	assert.ErrorContains(t, err, string(policy.RuleInjectLabel))

	ds = getDaemonSet(t, ns, "fin")
	ds.Finalizers = nil
	require.NoError(t, cp.Client.Update(ctx, ds), "the finalizer's removal")
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(cp.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "fin"}, &appsv1.DaemonSet{}))
	}, 10*time.Second, 100*time.Millisecond, "the DaemonSet is gone")
}
