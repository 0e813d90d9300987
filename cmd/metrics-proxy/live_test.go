package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/controller"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// runLive runs the command line against the test cluster and returns stdout, stderr and the code.
func runLive(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), liveVersion, append(args, "--kubeconfig", cp.Kubeconfig), strings.NewReader(""), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// TestAuditAndExplainLive: against a real API server with the webhook, `audit` exits 0 on a
// clean cluster, then reports a DaemonSet created before its namespace was labelled (table and
// JSON, exit 1), and `explain` says why one DaemonSet is injected and compliant and another is
// not injected, and what a stricter policy would reject.
func TestAuditAndExplainLive(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	out, errOut, code := runLive(t, "audit")
	require.Equal(t, exitOK, code, "a cluster with no proxy has no findings: %s%s", out, errOut)
	assert.Equal(t, "no findings\n", out)

	create := func(obj client.Object) {
		require.NoError(t, cp.Client.Create(ctx, obj))
	}
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "proxies", Labels: map[string]string{names.NamespaceInjectionLabel: "enabled"}}})
	create(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "proxies", Name: names.DefaultConfigMap,
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}})
	create(&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "proxies", Name: "proxy"},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{}}}}})
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "later"}})
	create(&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "later", Name: "early"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "early"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "early"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: names.ContainerName, Image: names.DefaultImage}}}}}})
	var later corev1.Namespace
	require.NoError(t, cp.Client.Get(ctx, clientKey("", "later"), &later))
	later.Labels = map[string]string{names.NamespaceInjectionLabel: "enabled"}
	require.NoError(t, cp.Client.Update(ctx, &later))

	out, errOut, code = runLive(t, "audit")
	assert.Equal(t, exitRejected, code, errOut)
	assert.Contains(t, errOut, "1 finding")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2, out)
	assert.Regexp(t, `^KIND\s+NAMESPACE\s+NAME\s+REASON\s+MESSAGE$`, lines[0])
	assert.Regexp(t, `^DaemonSet\s+later\s+early\s+NotInjected\s+selected by namespaced\.daemonsets\.inject\.metrics-proxy\.io`, lines[1])

	out, _, code = runLive(t, "audit", "-o", "json")
	assert.Equal(t, exitRejected, code)
	var fs []controller.Finding
	require.NoError(t, json.Unmarshal([]byte(out), &fs), out)
	assert.Equal(t, []controller.Finding{{Kind: "DaemonSet", Namespace: "later", Name: "early", Reason: controller.ReasonNotInjected,
		Message: fs[0].Message}}, fs)

	out, errOut, code = runLive(t, "explain", "daemonset", "proxies/proxy")
	require.Equal(t, exitOK, code, errOut)
	t.Logf("metrics-proxy explain daemonset proxies/proxy:\n%s", out)
	var cm corev1.ConfigMap
	require.NoError(t, cp.Client.Get(ctx, clientKey("proxies", names.DefaultConfigMap), &cm))
	hash := inject.ConfigHash(&cm)
	for _, want := range []string{
		"namespace label metrics-proxy.io/injection: enabled",
		"DaemonSet label metrics-proxy.io/inject:    (absent)",
		"selected by namespaced.daemonsets.inject.metrics-proxy.io: namespace proxies labelled metrics-proxy.io/injection=enabled",
		`live entry namespaced.daemonsets.inject.metrics-proxy.io matches: namespaceSelector "kubernetes.io/metadata.name notin (kube-node-lease,kube-public,kube-system,metrics-proxy-system),metrics-proxy.io/injection=enabled" matches`,
		"then match conditions: not-opted-out",
		`live entry labelled.daemonsets.inject.metrics-proxy.io does not match`,
		"injected by " + liveVersion,
		"this injector is " + liveVersion,
		"compliant (the DaemonSet and ConfigMap metrics-proxy)",
		"ConfigMap metrics-proxy: config hash " + hash + "; pod template: " + hash,
		"Findings (audit now)\n  none",
		"Pods\n  none",
	} {
		assert.Contains(t, out, want)
	}

	out, _, code = runLive(t, "explain", "daemonset", "later/early")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "not injected (no metrics-proxy.io/status)")
	assert.Contains(t, out, "NotInjected: selected by namespaced.daemonsets.inject.metrics-proxy.io")
	assert.NotContains(t, out, "is not a metrics proxy", "early has a haproxy container")

	// A namespace holding a workload DaemonSet (node-exporter) that is then enabled: explain names it.
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "mixed"}})
	create(&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "mixed", Name: "node-exporter"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "ne"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "ne"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "node-exporter", Image: "quay.io/prometheus/node-exporter:v1.8.0"}}}}}})
	var mixed corev1.Namespace
	require.NoError(t, cp.Client.Get(ctx, clientKey("", "mixed"), &mixed))
	mixed.Labels = map[string]string{names.NamespaceInjectionLabel: "enabled"}
	require.NoError(t, cp.Client.Update(ctx, &mixed))
	out, _, code = runLive(t, "explain", "daemonset", "mixed/node-exporter")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "warning: DaemonSet mixed/node-exporter (containers: node-exporter) is not a metrics proxy, but namespace mixed has metrics-proxy.io/injection=enabled")

	strict := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(strict, []byte("apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\ncomponents: [kube-proxy]\n"), 0o644))
	out, _, code = runLive(t, "explain", "daemonset", "proxies/proxy", "--policy", strict)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "Policy (today's, enforcement Deny)\n  a write would be denied, 6 violations:")
	assert.Contains(t, out, "configmap/metrics-proxy:haproxy.cfg:")
	assert.Contains(t, out, "PolicyViolation:")
	out, _, code = runLive(t, "audit", "--policy", strict)
	assert.Equal(t, exitRejected, code)
	t.Logf("metrics-proxy audit --policy stricter.yaml:\n%s", out)
	assert.Regexp(t, `(?m)^ConfigMap\s+proxies\s+metrics-proxy\s+PolicyViolation`, out)
	assert.Regexp(t, `(?m)^DaemonSet\s+proxies\s+proxy\s+PolicyViolation`, out)
}

// TestExplainUsage: a wrong argument or a missing object is an error that says so, exit 2.
func TestExplainUsage(t *testing.T) {
	needControlPlane(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"explain", "deployment", "a/b"}, "want: explain daemonset NAMESPACE/NAME"},
		{[]string{"explain", "daemonset", "b"}, `"b": want NAMESPACE/NAME`},
		{[]string{"explain", "daemonset", "nowhere/nothing"}, "get DaemonSet nowhere/nothing"},
		{[]string{"audit", "-o", "yaml"}, `-o "yaml": want table or json`},
	}
	for _, tt := range tests {
		_, errOut, code := runLive(t, tt.args...)
		assert.Equal(t, exitUsage, code, tt.args)
		assert.Contains(t, errOut, tt.want, tt.args)
	}
}

// clientKey is a client.ObjectKey.
func clientKey(namespace, name string) client.ObjectKey {
	return client.ObjectKey{Namespace: namespace, Name: name}
}
