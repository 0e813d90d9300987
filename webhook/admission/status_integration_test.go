package admission_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestStatusSubresourceCannotRelabelAProxy (a red-team finding): the API server lets a write
// through a DaemonSet's status subresource change its labels and annotations (it resets only
// the spec), and no webhook entry named daemonsets/status. A tenant opted an injected proxy out
// (inject=false, admitted by design), changed its spec to anything, then set inject=true back
// through /status: a proxy to every reader whose spec the policy never admitted. Every write
// through /status that changes a label or annotation of ours is refused now, whatever the patch
// type, and nothing of it is stored.
func TestStatusSubresourceCannotRelabelAProxy(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newProxyNamespace(t, nil)
	kubectl(t, manifestOf(stub, "relabel", ns, names.InjectLabel+`: "true"`), "apply", "-f", "-")
	ds := getDaemonSet(t, ns, "relabel")
	require.Contains(t, ds.Annotations, names.StatusAnnotation, "the stub was injected")

	const evil = "registry.example.com/anything:latest"
	ds.Labels[names.InjectLabel] = "false"
	for i := range ds.Spec.Template.Spec.Containers {
		ds.Spec.Template.Spec.Containers[i].Image = evil
		ds.Spec.Template.Spec.Containers[i].Command = []string{"haproxy", "-f", "/tmp/unchecked.cfg"}
	}
	require.NoError(t, cp.Client.Update(ctx, ds), "opting out and changing the spec (allowed: it is no proxy now)")

	inject := names.InjectLabel
	tests := []struct {
		name  string
		write func(ds *appsv1.DaemonSet) error
		key   string
	}{
		{"update of /status", func(ds *appsv1.DaemonSet) error {
			ds.Labels[inject] = "true"
			return cp.Client.Status().Update(ctx, ds)
		}, inject},
		{"merge patch of /status", func(ds *appsv1.DaemonSet) error {
			return statusPatch(ctx, ds, types.MergePatchType, `{"metadata":{"labels":{"`+inject+`":"true"}}}`)
		}, inject},
		{"merge patch of /status removing the opt-out", func(ds *appsv1.DaemonSet) error {
			return statusPatch(ctx, ds, types.MergePatchType, `{"metadata":{"labels":{"`+inject+`":null}}}`)
		}, inject},
		{"JSON patch of /status", func(ds *appsv1.DaemonSet) error {
			return statusPatch(ctx, ds, types.JSONPatchType,
				`[{"op":"replace","path":"/metadata/labels/metrics-proxy.io~1inject","value":"true"}]`)
		}, inject},
		{"strategic merge patch of /status", func(ds *appsv1.DaemonSet) error {
			return statusPatch(ctx, ds, types.StrategicMergePatchType, `{"metadata":{"labels":{"`+inject+`":"true"}}}`)
		}, inject},
		{"server-side apply of /status with its own field manager", func(ds *appsv1.DaemonSet) error {
			return cp.Client.Status().Patch(ctx, ds, client.RawPatch(types.ApplyPatchType, []byte(fmt.Sprintf(
				`{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":%q,"namespace":%q,"labels":{%q:"true"}}}`,
				ds.Name, ds.Namespace, inject))), client.FieldOwner("tenant"), client.ForceOwnership)
		}, inject},
		{"the status annotation rewritten through /status", func(ds *appsv1.DaemonSet) error {
			return statusPatch(ctx, ds, types.MergePatchType, `{"metadata":{"annotations":{"`+names.StatusAnnotation+`":"{}"}}}`)
		}, names.StatusAnnotation},
		{"the injector's status annotation removed through /status (the proxy would leave every reader's sight)", func(ds *appsv1.DaemonSet) error {
			return statusPatch(ctx, ds, types.MergePatchType, `{"metadata":{"annotations":{"`+names.StatusAnnotation+`":null}}}`)
		}, names.StatusAnnotation},
		{"the config-map annotation changed through /status", func(ds *appsv1.DaemonSet) error {
			return statusPatch(ctx, ds, types.MergePatchType, `{"metadata":{"annotations":{"`+names.ConfigMapAnnotation+`":"other"}}}`)
		}, names.ConfigMapAnnotation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := getDaemonSet(t, ns, "relabel")
			err := tt.write(before.DeepCopy())
			require.Error(t, err, "the status write is refused")
			assert.ErrorContains(t, err, string(policy.RuleStatusMetadata))
			assert.ErrorContains(t, err, tt.key)
			assert.ErrorContains(t, err, "through the DaemonSet itself")
			after := getDaemonSet(t, ns, "relabel")
			assert.Equal(t, before.ResourceVersion, after.ResourceVersion, "nothing stored")
			assert.Equal(t, "false", after.Labels[inject])
		})
	}
}

// TestStatusWritesThatKeepOurMetadataNeverReachTheServer: the status entry's match condition
// lets through only status writes that change a label or annotation of ours. The DaemonSet
// controller's writes (status fields only), a tenant's other labels and annotations and the
// audit's annotation are admitted by the API server without a call to the server; a write that
// changes a key of ours reaches it (the counter moves), so the zero is no accident of a broken entry.
func TestStatusWritesThatKeepOurMetadataNeverReachTheServer(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newProxyNamespace(t, nil)
	kubectl(t, manifestOf(stub, "proxy", ns, names.InjectLabel+`: "true"`), "apply", "-f", "-")
	require.Contains(t, getDaemonSet(t, ns, "proxy").Annotations, names.StatusAnnotation, "injected")

	reviews := statusReviews(t)
	for i := range 5 { // as the DaemonSet controller does: an update of /status from its copy
		ds := getDaemonSet(t, ns, "proxy")
		ds.Status.DesiredNumberScheduled = int32(i + 1)
		ds.Status.NumberReady = int32(i)
		ds.Status.ObservedGeneration = ds.Generation
		require.NoError(t, cp.Client.Status().Update(ctx, ds), "a controller's status write")
	}
	ds := getDaemonSet(t, ns, "proxy")
	require.EqualValues(t, 4, ds.Status.NumberReady, "the status writes were stored")
	require.NoError(t, statusPatch(ctx, ds, types.MergePatchType,
		`{"metadata":{"labels":{"team":"a"},"annotations":{"example.com/note":"x"}}}`), "labels and annotations of others")
	require.NoError(t, statusPatch(ctx, ds, types.MergePatchType,
		`{"metadata":{"annotations":{"`+names.AuditAnnotation+`":"{\"version\":\"v\"}"}}}`), "the audit's own annotation")
	ds = getDaemonSet(t, ns, "proxy")
	assert.Equal(t, "a", ds.Labels["team"])
	assert.Equal(t, `{"version":"v"}`, ds.Annotations[names.AuditAnnotation])
	assert.Equal(t, reviews, statusReviews(t), "no status write above reached the server")

	require.Error(t, statusPatch(ctx, ds, types.MergePatchType, `{"metadata":{"labels":{"`+names.InjectLabel+`":"false"}}}`))
	assert.Equal(t, reviews+1, statusReviews(t), "a status write changing a label of ours reaches the server")
}

// TestStatusAnnotationOutsideTheSelection (a red-team finding): a DaemonSet with a hand-written
// metrics-proxy.io/status annotation counted as a proxy to every reader (and the shared cache kept
// its whole spec) while no webhook saw it outside the selection. Outside the selection, a status
// annotation that a write adds or changes must be the injector's record of this spec, and every
// write of a DaemonSet carrying one is validated as a proxy; a restored copy of an injected proxy
// is admitted.
func TestStatusAnnotationOutsideTheSelection(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	enabled := newProxyNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled"})
	kubectl(t, manifestOf(stub, "original", enabled, ""), "apply", "-f", "-")
	original := getDaemonSet(t, enabled, "original")
	require.Contains(t, original.Annotations, names.StatusAnnotation, "injected")

	ns := newProxyNamespace(t, nil)
	withStatus := func(name, status string) string {
		return strings.Replace(manifestOf(ordinary, name, ns, ""), "metadata:\n",
			"metadata:\n  annotations: {"+names.StatusAnnotation+": "+strconv.Quote(status)+"}\n", 1)
	}
	for _, status := range []string{"{}", `{"version":"v1","hash":"0123456789abcdef"}`, original.Annotations[names.StatusAnnotation]} {
		stderr := kubectlFails(t, withStatus("forged", status), "apply", "-f", "-")
		assert.Contains(t, stderr, string(policy.RuleStatusAnnotation), status)
		assert.Contains(t, stderr, "the injector did not write it")
	}

	// What the shared cache would keep whole for a proxy: a forged record on a padded spec.
	padded := &appsv1.DaemonSet{}
	require.NoError(t, yaml.Unmarshal([]byte(withStatus("padded", "{}")), padded))
	padded.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "PAD", Value: strings.Repeat("x", 600<<10)}}
	err := cp.Client.Create(ctx, padded)
	require.Error(t, err, "a padded DaemonSet with a hand-written status annotation")
	assert.ErrorContains(t, err, string(policy.RuleObjectSize))

	kubectl(t, manifestOf(ordinary, "agent", ns, ""), "apply", "-f", "-")
	agent := getDaemonSet(t, ns, "agent")
	agent.Annotations = map[string]string{names.StatusAnnotation: "{}"}
	err = cp.Client.Update(ctx, agent)
	require.Error(t, err, "a status annotation added to an ordinary DaemonSet")
	assert.ErrorContains(t, err, string(policy.RuleStatusAnnotation))
	assert.NotContains(t, getDaemonSet(t, ns, "agent").Annotations, names.StatusAnnotation)

	opted := getDaemonSet(t, ns, "agent")
	opted.Labels = map[string]string{names.InjectLabel: "false"}
	opted.Annotations = map[string]string{names.StatusAnnotation: "{}"}
	require.NoError(t, cp.Client.Update(ctx, opted), "an opted-out DaemonSet is no proxy to any reader")
	opted = getDaemonSet(t, ns, "agent")
	delete(opted.Labels, names.InjectLabel)
	err = cp.Client.Update(ctx, opted)
	require.Error(t, err, "dropping the opt-out makes it a proxy: reviewed")
	assert.ErrorContains(t, err, string(policy.RuleStatusAnnotation))

	// A copy mounting an unlabelled ConfigMap outside the selection is held to the config-volume
	// rule (only an update that keeps an earlier injection's record is not).
	kubectl(t, configMap("plain", enabled, "", seedConfig(t)), "apply", "-f", "-")
	kubectl(t, strings.Replace(manifestOf(stub, "plain", enabled, ""), "metadata:\n",
		"metadata:\n  annotations: {"+names.ConfigMapAnnotation+": plain}\n", 1), "apply", "-f", "-")
	kubectl(t, configMap("plain", ns, "", seedConfig(t)), "apply", "-f", "-")
	plain := getDaemonSet(t, enabled, "plain").DeepCopy()
	plain.ObjectMeta = metav1.ObjectMeta{Name: "plain", Namespace: ns, Annotations: plain.Annotations}
	err = cp.Client.Create(ctx, plain)
	require.Error(t, err, "a copy that mounts an unlabelled ConfigMap")
	assert.ErrorContains(t, err, string(policy.RuleConfigVolume))
	assert.NotContains(t, err.Error(), string(policy.RuleStatusAnnotation), "its record is the injector's")

	restored := original.DeepCopy()
	restored.ObjectMeta = metav1.ObjectMeta{Name: "restored", Namespace: ns, Labels: original.Labels, Annotations: original.Annotations}
	require.NoError(t, cp.Client.Create(ctx, restored), "a copy of an injected proxy keeps a matching record")
	restored = getDaemonSet(t, ns, "restored")
	restored.Spec.Template.Spec.Containers[0].Image = "registry.example.com/anything:latest"
	err = cp.Client.Update(ctx, restored)
	require.Error(t, err, "a proxy outside the selection is validated as one on every write")
	assert.ErrorContains(t, err, string(policy.RuleImage))
	restored = getDaemonSet(t, ns, "restored")
	restored.Labels = map[string]string{"team": "a"}
	require.NoError(t, cp.Client.Update(ctx, restored), "a compliant update of it is admitted")
}

// statusPatch patches ds's status subresource.
func statusPatch(ctx context.Context, ds *appsv1.DaemonSet, pt types.PatchType, body string) error {
	return cp.Client.Status().Patch(ctx, ds, client.RawPatch(pt, []byte(body)))
}

// statusReviews sums the server's decisions on daemonsets/status, whatever their outcome.
func statusReviews(t *testing.T) float64 {
	t.Helper()
	var sum float64
	for _, line := range strings.Split(httpGet(t, "http://"+cp.MetricsAddr+"/metrics").body, "\n") {
		if !strings.HasPrefix(line, "metrics_proxy_admission_decisions_total{") || !strings.Contains(line, `resource="daemonsets/status"`) {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
		require.NoError(t, err, line)
		sum += v
	}
	return sum
}
