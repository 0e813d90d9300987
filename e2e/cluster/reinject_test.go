//go:build linux

package cluster

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/metrics-proxy/injector/webhook/controller"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// earlyYAML is a hand-written proxy DaemonSet (the seed's container, nothing injected) in ns,
// created before the namespace is labelled.
func earlyYAML(ns string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: early, namespace: %[1]s, annotations: {%[2]s: %[3]s}}
spec:
  selector: {matchLabels: {app: early}}
  template:
    metadata: {labels: {app: early}}
    spec:
      containers: [{name: %[4]s, image: %[5]q}]
`, ns, names.TLSAnnotation, names.TLSNone, names.ContainerName, names.DefaultImage)
}

// labelledLaterReinjected: a DaemonSet that predates its namespace's label is reported by the
// audit of the leader (a NotInjected Event) and, with serve --reinject=stale (the Deployment's
// args patched: the replicas roll, the new leader audits at its start), re-applied through the
// API server, injected by the webhook, and rolled onto every node by the daemonset controller.
func labelledLaterReinjected(ctx context.Context, t *testing.T, c *Cluster) {
	const ns = "labelled-later"
	_, _, err := c.Kubectl(ctx, "", "create", "namespace", ns)
	require.NoError(t, err)
	t.Cleanup(func() { _, _, _ = c.Kubectl(context.Background(), "", "delete", "namespace", ns, "--timeout=2m") })
	cm := strings.Replace(proxyConfigYAML(ns), names.ControlPlaneDaemonSet, names.DefaultConfigMap, 1)
	_, _, err = c.Kubectl(ctx, cm+"---\n"+earlyYAML(ns), "apply", "-f", "-")
	require.NoError(t, err)
	ds, err := c.Client.AppsV1().DaemonSets(ns).Get(ctx, "early", metav1.GetOptions{})
	require.NoError(t, err)
	require.NotContains(t, ds.Annotations, names.StatusAnnotation, "not injected: the namespace is not labelled yet")
	_, _, err = c.Kubectl(ctx, "", "label", "namespace", ns, names.NamespaceInjectionLabel+"=enabled")
	require.NoError(t, err)

	start := time.Now()
	patch := `[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--reinject=stale"}]`
	_, _, err = c.Kubectl(ctx, "", "patch", "deployment", WebhookDeployment, "-n", WebhookNamespace, "--type=json", "-p", patch)
	require.NoError(t, err)
	require.NoError(t, poll(ctx, 3*time.Minute, nil, func(ctx context.Context) error {
		ds, err := c.Client.AppsV1().DaemonSets(ns).Get(ctx, "early", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if _, ok := ds.Annotations[names.StatusAnnotation]; !ok {
			return fmt.Errorf("DaemonSet early not injected yet")
		}
		return nil
	}), "the new leader re-applies the DaemonSet and the webhook injects it")
	took := time.Since(start)
	reasons := map[string]bool{}
	events, err := c.Client.EventsV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("regarding.name", "early").String()})
	require.NoError(t, err)
	for _, e := range events.Items {
		if e.ReportingController == controller.EventSource {
			reasons[e.Reason] = true
		}
	}
	t.Logf("--reinject=stale patched in: the DaemonSet injected after %s (the webhook's replicas rolled, the new leader's first audit); Events: %v",
		took.Round(100*time.Millisecond), reasons)
	assert.True(t, reasons[string(controller.ReasonNotInjected)], "the audit reported it: %v", reasons)
	assert.True(t, reasons[controller.EventReinjected], "and re-applied it: %v", reasons)
	// The audit re-applies the ConfigMap (the filler writes its haproxy.cfg) and the DaemonSet: the
	// proxy rolls out on the hash of the config as it is now.
	var hash string
	require.NoError(t, poll(ctx, time.Minute, nil, func(ctx context.Context) error {
		config, err := c.Client.CoreV1().ConfigMaps(ns).Get(ctx, names.DefaultConfigMap, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if hash = inject.ConfigHash(config); hash == "" {
			return fmt.Errorf("ConfigMap %s has no %s yet", names.DefaultConfigMap, names.ConfigKey)
		}
		return nil
	}), "the filler writes the ConfigMap's haproxy.cfg")
	waitRollout(ctx, t, c, ns, "early", "app=early", hash)
}
