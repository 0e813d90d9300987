package controller_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/controller"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// newAuditor is an auditor like the one serve runs, reading straight from the API server and
// writing through the counting client.
func newAuditor(mode controller.ReinjectMode) *controller.Auditor {
	return &controller.Auditor{Reader: cp.Client, Client: writer, Events: events, Policies: policies,
		Inject: inject.Config{Version: testVersion}, Interval: time.Hour, Reinject: mode}
}

// TestLabelledLaterReportedThenReinjected: a DaemonSet created before its namespace was
// labelled is reported by the audit (finding, status annotation, Event, metric) without being
// changed; a second audit writes nothing; with --reinject=stale the audit re-applies it through
// the API server, the webhook injects it, and the next audit clears the annotation.
func TestLabelledLaterReportedThenReinjected(t *testing.T) {
	needControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), rolloutTimeout)
	defer cancel()
	ns := newNamespace(t, ctx, "later", false)
	createProxyConfig(t, ctx, ns, "metrics-proxy", "")
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "early"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "early"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "early"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}}}}
	require.NoError(t, cp.Client.Create(ctx, ds))
	require.NotContains(t, ds.Annotations, names.StatusAnnotation, "the namespace is not labelled yet")
	var namespace corev1.Namespace
	require.NoError(t, cp.Client.Get(ctx, client.ObjectKey{Name: ns}, &namespace))
	namespace.Labels = map[string]string{names.NamespaceInjectionLabel: "enabled"}
	require.NoError(t, cp.Client.Update(ctx, &namespace))

	audit := newAuditor(controller.ReinjectOff)
	_, err := audit.Once(ctx)
	require.NoError(t, err)
	got := getDaemonSet(t, ctx, ns, "early")
	assert.Equal(t, ds.Generation, got.Generation, "reporting changes nothing")
	assert.NotContains(t, got.Annotations, names.StatusAnnotation)
	status := auditStatus(t, got)
	require.Len(t, status.Findings, 1, "%+v", status)
	assert.Equal(t, controller.ReasonNotInjected, status.Findings[0].Reason)
	assert.Contains(t, status.Findings[0].Message, controller.NamespacedEntry)
	waitEvent(t, ctx, ns, "early", string(controller.ReasonNotInjected))
	assert.GreaterOrEqual(t, findingsMetric(t, controller.KindDaemonSet, controller.ReasonNotInjected), 1.0)

	writesBefore := writer.total.Load()
	_, err = audit.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, writesBefore, writer.total.Load(), "an audit that finds what the last one found writes nothing")

	audit = newAuditor(controller.ReinjectStale)
	n, err := audit.Once(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the stale DaemonSet is re-applied")
	assert.Equal(t, 1, writer.writes("patch", ns, "early"))
	got = getDaemonSet(t, ctx, ns, "early")
	require.Contains(t, got.Annotations, names.StatusAnnotation, "the webhook injected the re-applied DaemonSet")
	assert.Contains(t, got.Annotations[names.StatusAnnotation], testVersion)
	assert.NotEmpty(t, inject.TemplateConfigHash(got), "with the config hash of its ConfigMap")
	waitEvent(t, ctx, ns, "early", controller.EventReinjected)

	_, err = audit.Once(ctx)
	require.NoError(t, err)
	got = getDaemonSet(t, ctx, ns, "early")
	assert.NotContains(t, got.Annotations, names.AuditAnnotation, "the repaired DaemonSet has no findings")
	waitEvent(t, ctx, ns, "early", controller.EventFindingsResolved)
	assert.Equal(t, 1, writer.writes("patch", ns, "early"), "nothing re-applied twice")
}

// TestStricterPolicyReportedNothingChanged: a compliant proxy and its ConfigMap, then a policy
// that allows kube-proxy only: the running audit notices the new policy within seconds and
// reports both against it (annotation, Events, metric); neither it nor an audit with
// --reinject=stale changes the DaemonSet's spec or the ConfigMap.
func TestStricterPolicyReportedNothingChanged(t *testing.T) {
	needControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), rolloutTimeout)
	defer cancel()
	ns := newNamespace(t, ctx, "stricter", true)
	cm := createProxyConfig(t, ctx, ns, "metrics-proxy", "")
	ds := createStub(t, ctx, ns, "proxy", nil)

	strict := policy.Default()
	kubeProxy, _ := components.Lookup("kube-proxy")
	strict.Components = []components.Component{kubeProxy}
	policies.set(strict)
	defer policies.set(policy.Default())
	// The running auditor (the package's manager, audit interval one hour) notices the new policy.
	require.Eventually(t, func() bool {
		return strings.Contains(getDaemonSet(t, ctx, ns, "proxy").Annotations[names.AuditAnnotation], string(controller.ReasonPolicyViolation))
	}, 20*time.Second, 100*time.Millisecond, "the running audit did not report the stricter policy")
	_, err := newAuditor(controller.ReinjectStale).Once(ctx)
	require.NoError(t, err)

	got := getDaemonSet(t, ctx, ns, "proxy")
	assert.Equal(t, ds.Generation, got.Generation, "the audit does not change the spec")
	assert.Equal(t, ds.Spec.Template, got.Spec.Template)
	var gotCM corev1.ConfigMap
	require.NoError(t, cp.Client.Get(ctx, client.ObjectKeyFromObject(cm), &gotCM))
	assert.Equal(t, cm.ResourceVersion, gotCM.ResourceVersion, "the audit does not touch the ConfigMap")
	assert.Zero(t, writer.writes("patch", ns, "proxy"), "a compliant-then-violating proxy is not re-applied")

	status := auditStatus(t, got)
	require.Len(t, status.Findings, 1, "%+v", status)
	assert.Equal(t, controller.ReasonPolicyViolation, status.Findings[0].Reason)
	assert.Contains(t, status.Findings[0].Message, "configmap/metrics-proxy:haproxy.cfg")
	waitEvent(t, ctx, ns, "proxy", string(controller.ReasonPolicyViolation))
	waitEvent(t, ctx, ns, "metrics-proxy", string(controller.ReasonPolicyViolation))
	assert.GreaterOrEqual(t, findingsMetric(t, controller.KindConfigMap, controller.ReasonPolicyViolation), 1.0)
}

// auditStatus decodes the DaemonSet's audit annotation.
func auditStatus(t *testing.T, ds *appsv1.DaemonSet) controller.AuditStatus {
	t.Helper()
	raw, ok := ds.Annotations[names.AuditAnnotation]
	require.True(t, ok, "no %s annotation on %s/%s", names.AuditAnnotation, ds.Namespace, ds.Name)
	var s controller.AuditStatus
	require.NoError(t, json.Unmarshal([]byte(raw), &s))
	assert.Equal(t, testVersion, s.Version)
	return s
}

// waitEvent waits for an Event with reason about the named object of ns.
func waitEvent(t *testing.T, ctx context.Context, ns, name, reason string) {
	t.Helper()
	assert.Eventually(t, func() bool {
		list, err := cs.EventsV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("regarding.name", name).String()})
		if err != nil {
			return false
		}
		for _, e := range list.Items {
			if e.Reason == reason && e.ReportingController == controller.EventSource {
				return true
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "no Event %s on %s/%s", reason, ns, name)
}

// findingsMetric reads metrics_proxy_audit_findings{kind,reason} from the metrics registry.
func findingsMetric(t *testing.T, kind string, reason controller.Reason) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "metrics_proxy_audit_findings" {
			continue
		}
		for _, m := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["kind"] == kind && l["reason"] == string(reason) {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no metrics_proxy_audit_findings{kind=%q,reason=%q}", kind, reason)
	return 0
}
