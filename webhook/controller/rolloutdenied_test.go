package controller_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/controller"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestRolloutDeniedByTheValidatingWebhook takes the RolloutDenied path through the real API
// server and our validating webhook: a proxy runs with the default image; the admin makes the
// policy stricter (that image no longer allowed; the server reloads its policy file). A
// compliant edit of the proxy's ConfigMap (etcd removed) is admitted, as ConfigMaps carry no
// image; the controller's config-hash write is validated with the DaemonSet under today's
// policy and denied. The controller records the RolloutDenied Event with the API server's answer
// (rule and image), writes once and does not retry in a loop, and the pod template keeps the
// old hash; once the policy allows the image again, the next change rolls.
func TestRolloutDeniedByTheValidatingWebhook(t *testing.T) {
	needControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*rolloutTimeout)
	defer cancel()
	ns := newNamespace(t, ctx, "denied", true)
	cm := createProxyConfig(t, ctx, ns, names.DefaultConfigMap, "")
	const name = "proxy"
	ds := createStub(t, ctx, ns, name, nil)
	old := inject.ConfigHash(cm)
	require.Equal(t, old, inject.TemplateConfigHash(ds), "the hash set at injection time")
	image := ds.Spec.Template.Spec.Containers[0].Image

	strict := strings.Replace(defaultPolicyYAML, `allowedImages: ["haproxy:3.0*"]`,
		`allowedImages: ["registry.example/haproxy:*"]`, 1)
	require.NotEqual(t, defaultPolicyYAML, strict)
	setPolicyFile(t, ctx, ns, strict, true)
	t.Cleanup(func() { setPolicyFile(t, context.Background(), ns, defaultPolicyYAML, false) })
	strictPolicy, err := policy.Parse([]byte(strict))
	require.NoError(t, err)
	policies.set(strictPolicy)
	t.Cleanup(func() { policies.set(policy.Default()) })

	before := writer.writes("patch", ns, name)
	cm.Data[names.ConfigKey] = inject.HAProxyConfig(components.All()[:3]) // etcd removed
	require.NoError(t, cp.Client.Update(ctx, cm), "the stricter policy admits the compliant edit of the ConfigMap")

	var denied string
	assert.Eventually(t, func() bool {
		list, err := cs.EventsV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("regarding.name", name).String()})
		if err != nil {
			return false
		}
		for _, e := range list.Items {
			if e.Reason == controller.EventRolloutDenied && e.ReportingController == controller.EventSource {
				denied = e.Note
				return true
			}
		}
		return false
	}, 20*time.Second, 100*time.Millisecond, "no %s Event", controller.EventRolloutDenied)
	t.Logf("the Event: %s", denied)
	assert.Contains(t, denied, "denied the request", "the Event carries the API server's answer")
	assert.Contains(t, denied, string(policy.RuleImage), "the Event names the violated rule")
	assert.Contains(t, denied, image, "the Event names the image")
	assert.Contains(t, denied, cm.Name, "the Event names the ConfigMap")

	time.Sleep(3 * time.Second) // a controller that retried a denial would write again now
	assert.Equal(t, 1, writer.writes("patch", ns, name)-before, "one write for the change, no retry loop on a denial")
	assert.Equal(t, old, inject.TemplateConfigHash(getDaemonSet(t, ctx, ns, name)), "the pod template keeps the old hash")

	// The policy allows the image again: the next change of the ConfigMap rolls.
	setPolicyFile(t, ctx, ns, defaultPolicyYAML, false)
	policies.set(policy.Default())
	cm.Data[names.ConfigKey] = inject.HAProxyConfig(components.All()[:2])
	require.NoError(t, cp.Client.Update(ctx, cm))
	assert.Eventually(t, func() bool {
		return inject.TemplateConfigHash(getDaemonSet(t, ctx, ns, name)) == inject.ConfigHash(cm)
	}, 20*time.Second, 100*time.Millisecond, "the next change rolls once the policy allows the DaemonSet")
}

// setPolicyFile writes the webhook server's policy file and waits until the server applies it:
// a server-side dry run of a proxy stub in ns is denied for its image when denyImage, else
// admitted.
func setPolicyFile(t *testing.T, ctx context.Context, ns, text string, denyImage bool) {
	t.Helper()
	require.NoError(t, os.WriteFile(policyFile+".tmp", []byte(text), 0o600))
	require.NoError(t, os.Rename(policyFile+".tmp", policyFile))
	probe := func() error {
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "policy-probe",
			Annotations: map[string]string{names.TLSAnnotation: names.TLSNone}},
			Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{}}}}}
		_, err := cs.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		switch {
		case denyImage && (err == nil || !strings.Contains(err.Error(), string(policy.RuleImage))):
			return fmt.Errorf("the stricter policy is not applied yet: %v", err)
		case !denyImage && err != nil:
			return fmt.Errorf("the policy is not restored yet: %w", err)
		}
		return nil
	}
	var last error
	assert.Eventually(t, func() bool { last = probe(); return last == nil }, 20*time.Second, 200*time.Millisecond, "policy file: %v", last)
}
