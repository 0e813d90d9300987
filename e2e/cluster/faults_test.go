//go:build linux

package cluster

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/e2e/seed"
	"github.com/metrics-proxy/injector/webhook/names"
)

// stubYAML is a minimal proxy stub in namespace ns, as render prints it.
func stubYAML(name, ns string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: %s
  namespace: %s
  annotations: {metrics-proxy.io/config-map: %s, metrics-proxy.io/tls: none}
spec:
  template:
    spec:
      containers: []
`, name, ns, names.ControlPlaneDaemonSet)
}

// plainYAML is a DaemonSet outside the webhook's selection (no label, namespace not enabled).
func plainYAML(name, ns string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: %[1]s, namespace: %[2]s}
spec:
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      containers: [{name: agent, image: %[3]s}]
`, name, ns, pauseRef)
}

// faultWebhookGone: with both webhook pods gone, a proxy DaemonSet write is refused with a clear
// error and nothing is stored, while DaemonSets outside the selection (kube-system included) are
// written as usual; once the pods are back, the same write is injected.
func faultWebhookGone(ctx context.Context, t *testing.T, c *Cluster) {
	_, _, err := c.Kubectl(ctx, "", "scale", "deployment", WebhookDeployment, "-n", WebhookNamespace, "--replicas=0")
	require.NoError(t, err)
	_, _, err = c.Kubectl(ctx, "", "delete", "pods", "-n", WebhookNamespace, "-l", "app.kubernetes.io/component=webhook", "--wait=true", "--grace-period=1")
	require.NoError(t, err)
	waitPods(ctx, t, c, WebhookNamespace, "app.kubernetes.io/component=webhook", 0)

	_, stderr, err := c.Kubectl(ctx, stubYAML("proxy-while-down", seed.Namespace), "apply", "-f", "-")
	require.Error(t, err, "a proxy DaemonSet was admitted with no webhook server")
	assert.Contains(t, stderr, `failed calling webhook`, "the refusal names the webhook")
	assert.Contains(t, stderr, "metrics-proxy", "the refusal names the webhook")
	_, err = c.Client.AppsV1().DaemonSets(seed.Namespace).Get(ctx, "proxy-while-down", metav1.GetOptions{})
	assert.True(t, err != nil && strings.Contains(err.Error(), "not found"), "nothing stored: %v", err)

	for _, ns := range []string{"kube-system", "default"} {
		_, _, err := c.Kubectl(ctx, plainYAML("unaffected", ns), "apply", "-f", "-")
		assert.NoError(t, err, "a DaemonSet outside the selection, in %s", ns)
	}

	_, _, err = c.Kubectl(ctx, "", "scale", "deployment", WebhookDeployment, "-n", WebhookNamespace, "--replicas=2")
	require.NoError(t, err)
	waitPods(ctx, t, c, WebhookNamespace, "app.kubernetes.io/component=webhook", 2)
	require.NoError(t, poll(ctx, time.Minute, nil, func(ctx context.Context) error {
		_, _, err := c.Kubectl(ctx, stubYAML("proxy-while-down", seed.Namespace), "apply", "-f", "-")
		return err
	}))
	ds, err := c.Client.AppsV1().DaemonSets(seed.Namespace).Get(ctx, "proxy-while-down", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Contains(t, ds.Annotations, names.StatusAnnotation, "injected once the webhook is back")
	require.NoError(t, c.Client.AppsV1().DaemonSets(seed.Namespace).Delete(ctx, "proxy-while-down", metav1.DeleteOptions{}))
}

// faultProxyKilled: the proxy container's haproxy killed; the kubelet restarts it with the same
// config and it serves again.
func faultProxyKilled(ctx context.Context, t *testing.T, c *Cluster, pod string) {
	n := c.Nodes[0]
	before, err := n.ContainerPID(ctx, "haproxy")
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(before, syscall.SIGKILL))
	proxyBack(ctx, t, c, n, before, pod)
}

// faultKubeletRestarted: a node's kubelet stopped; while it is down the proxy container is
// killed and nobody restarts it; the kubelet started again brings the proxy back.
func faultKubeletRestarted(ctx context.Context, t *testing.T, c *Cluster, pod string) {
	n := c.Nodes[0]
	n.StopKubelet()
	before, err := n.ContainerPID(ctx, "haproxy")
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(before, syscall.SIGKILL))
	time.Sleep(3 * time.Second)
	_, err = n.ContainerPID(ctx, "haproxy")
	assert.Error(t, err, "no kubelet, no restart")
	require.NoError(t, n.StartKubelet())
	proxyBack(ctx, t, c, n, before, pod)
}

// proxyBack waits until node n runs a new haproxy container (not pid before) with the
// ConfigMap's config, and the test pod scrapes through it again.
func proxyBack(ctx context.Context, t *testing.T, c *Cluster, n *Node, before int, pod string) {
	t.Helper()
	var after int
	require.NoError(t, poll(ctx, 2*time.Minute, nil, func(ctx context.Context) error {
		pid, err := n.ContainerPID(ctx, "haproxy")
		if err != nil {
			return err
		}
		if pid == before {
			return fmt.Errorf("still pid %d", pid)
		}
		after = pid
		return nil
	}), "the kubelet restarts the proxy on %s", n.Name)
	proxy := names.NodesDaemonSet // render's split: the control-plane proxy there, the nodes proxy elsewhere
	if n.Name == ControlPlaneNode {
		proxy = names.ControlPlaneDaemonSet
	}
	cm, err := c.Client.CoreV1().ConfigMaps(seed.Namespace).Get(ctx, proxy, metav1.GetOptions{})
	require.NoError(t, err)
	mounted, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/usr/local/etc/haproxy/haproxy.cfg", after))
	require.NoError(t, err)
	assert.Equal(t, cm.Data[names.ConfigKey], string(mounted), "config intact")
	require.NoError(t, poll(ctx, time.Minute, nil, func(ctx context.Context) error {
		if status, body := c.Curl(ctx, pod, "10257", "/metrics", ""); status != 200 {
			return fmt.Errorf("%d: %s", status, body)
		}
		return nil
	}), "the proxy serves again")
}
