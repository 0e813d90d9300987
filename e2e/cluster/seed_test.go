//go:build linux

package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/e2e/seed"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestSeedOnRealNodes runs the seed procedure on real nodes (RunSeed): metrics-proxy installed
// with `kubectl apply -k deploy/overlays/self-signed` (its two replicas as pods), the namespace
// labelled, render's output applied; the DaemonSet's pods run the real haproxy container on both
// nodes with NODE_IP from the downward API and the ConfigMap the kubelet mounted, and the seed's
// test pod scrapes the control-plane node's four components through it with the scraper's token
// (200), while HAProxy denies other paths and the components a token without the binding (403).
// Then the faults, through the real API server, and the Prometheus proof (testPrometheus).
func TestSeedOnRealNodes(t *testing.T) {
	ctx := testContext(t)
	c := up(ctx, t)
	var out bytes.Buffer
	rep, err := c.RunSeed(ctx, &out)
	t.Logf("the seed procedure:\n%s", out.String())
	require.NoError(t, err)
	for _, n := range c.Nodes {
		assert.Contains(t, rep.Proxies, n.Name, "a proxy pod on every node, the tainted control-plane node included")
		assert.Equal(t, n.IP, rep.Env[n.Name], "NODE_IP from status.hostIP on %s", n.Name)
		assert.True(t, rep.ConfigMounted[n.Name], "the kubelet mounted the ConfigMap on %s", n.Name)
	}
	require.Len(t, rep.Scrapes, len(ScrapePlan()))
	for _, s := range rep.Scrapes {
		assert.True(t, s.OK(), "%s: %s", s, s.Body)
	}
	for _, n := range c.Nodes {
		pid, err := n.ContainerPID(ctx, names.ContainerName)
		require.NoError(t, err)
		assertLockedDown(t, pid, "65534", "the proxy on "+n.Name)
	}
	assertControlPlanePods(ctx, t, c)
	assertWebhookPods(ctx, t, c)
	assertTolerationPlacesProxy(ctx, t, c)
	assertTamperDenied(ctx, t, c)
	if t.Failed() {
		return
	}
	t.Run("webhook pods gone", func(t *testing.T) { faultWebhookGone(ctx, t, c) })
	t.Run("proxy container killed", func(t *testing.T) { faultProxyKilled(ctx, t, c, TestPodName) })
	t.Run("kubelet stopped and restarted", func(t *testing.T) { faultKubeletRestarted(ctx, t, c, TestPodName) })
	// Last: it switches the proxies to TLS frontends (prometheus_test.go).
	t.Run("prometheus", func(t *testing.T) { testPrometheus(ctx, t, c) })
}

// waitPods is WaitPods for a test.
func waitPods(ctx context.Context, t *testing.T, c *Cluster, ns, selector string, want int) map[string]string {
	t.Helper()
	pods, err := c.WaitPods(ctx, ns, selector, want)
	require.NoError(t, err)
	return pods
}

// assertControlPlanePods checks that the control plane runs as static pods of the control-plane
// node, their mirror pods labelled as kubeadm labels them.
func assertControlPlanePods(ctx context.Context, t *testing.T, c *Cluster) {
	t.Helper()
	pods, err := c.Client.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "tier=control-plane"})
	require.NoError(t, err)
	got := map[string]string{}
	for _, p := range pods.Items {
		assert.Equal(t, ControlPlaneNode, p.Spec.NodeName, p.Name)
		assert.Contains(t, p.Annotations, "kubernetes.io/config.mirror", "%s is a mirror pod", p.Name)
		got[p.Labels["component"]] = p.Name
	}
	assert.Equal(t, map[string]string{
		"etcd": "etcd-" + ControlPlaneNode, "kube-apiserver": "kube-apiserver-" + ControlPlaneNode,
		"kube-controller-manager": "kube-controller-manager-" + ControlPlaneNode, "kube-scheduler": "kube-scheduler-" + ControlPlaneNode,
	}, got)
}

// optedOutYAML is the seed scenario's counter-check: a DaemonSet in the enabled namespace that
// opts out, with its own container and no toleration.
const optedOutYAML = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ` + seed.OptedOut + `
  namespace: ` + seed.Namespace + `
  labels: {metrics-proxy.io/inject: "false"}
spec:
  selector: {matchLabels: {app: ` + seed.OptedOut + `}}
  template:
    metadata: {labels: {app: ` + seed.OptedOut + `}}
    spec:
      containers: [{name: agent, image: ` + pauseRef + `}]
`

// assertTolerationPlacesProxy shows that the injected toleration is what puts the proxy on the
// control-plane node: the proxy runs there, a DaemonSet without it (opted out) only on workers.
func assertTolerationPlacesProxy(ctx context.Context, t *testing.T, c *Cluster) {
	t.Helper()
	ds, err := c.Client.AppsV1().DaemonSets(seed.Namespace).Get(ctx, names.ControlPlaneDaemonSet, metav1.GetOptions{})
	require.NoError(t, err)
	var tolerated bool
	for _, tol := range ds.Spec.Template.Spec.Tolerations {
		tolerated = tolerated || tol.Key == names.ControlPlaneTaint
	}
	assert.True(t, tolerated, "the proxy tolerates %s", names.ControlPlaneTaint)
	_, _, err = c.Kubectl(ctx, optedOutYAML, "apply", "-f", "-")
	require.NoError(t, err)
	agents := waitPods(ctx, t, c, seed.Namespace, "app="+seed.OptedOut, len(c.Nodes)-1)
	assert.NotContains(t, agents, ControlPlaneNode, "a DaemonSet without the toleration stays off the control-plane node")
}

// assertTamperDenied edits the live ConfigMap so that HAProxy would allow every path and expects
// the API server to deny it through the webhook pods, the stored config unchanged.
func assertTamperDenied(ctx context.Context, t *testing.T, c *Cluster) {
	t.Helper()
	before, err := c.Client.CoreV1().ConfigMaps(seed.Namespace).Get(ctx, names.ControlPlaneDaemonSet, metav1.GetOptions{})
	require.NoError(t, err)
	const deny = "  http-request deny if !{ path /metrics }"
	require.Contains(t, before.Data[names.ConfigKey], deny)
	edited := before.DeepCopy()
	edited.APIVersion, edited.Kind = "v1", "ConfigMap"
	edited.Data[names.ConfigKey] = strings.Replace(before.Data[names.ConfigKey], deny, "  http-request allow\n"+deny, 1)
	text, err := yaml.Marshal(edited)
	require.NoError(t, err)
	_, stderr, err := c.Kubectl(ctx, string(text), "replace", "-f", "-")
	require.Error(t, err, "the API server accepted a config that allows every path")
	assert.Contains(t, stderr, "denied the request")
	assert.Contains(t, stderr, "http-request-action")
	after, err := c.Client.CoreV1().ConfigMaps(seed.Namespace).Get(ctx, names.ControlPlaneDaemonSet, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, before.Data[names.ConfigKey], after.Data[names.ConfigKey])
}

// assertWebhookPods checks the webhook's pods under the real runtime: they run as the manifests'
// non-root user without capabilities on a read-only root, and the PodDisruptionBudget lets one be
// evicted but not the second while the first is gone.
func assertWebhookPods(ctx context.Context, t *testing.T, c *Cluster) {
	t.Helper()
	var pids []int
	for _, n := range c.Nodes {
		got, err := n.ContainerPIDs(ctx, WebhookDeployment)
		require.NoError(t, err)
		pids = append(pids, got...)
	}
	require.Len(t, pids, 2, "two webhook containers")
	for _, pid := range pids {
		assertLockedDown(t, pid, "65532", "a webhook container")
	}
	pods, err := c.Client.CoreV1().Pods(WebhookNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=webhook"})
	require.NoError(t, err)
	require.Len(t, pods.Items, 2)
	evict := func(name string) error {
		return c.Client.PolicyV1().Evictions(WebhookNamespace).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: WebhookNamespace}})
	}
	// The first eviction waits until the disruption controller has counted the healthy pods.
	require.NoError(t, poll(ctx, time.Minute, nil, func(context.Context) error { return evict(pods.Items[0].Name) }),
		"the PodDisruptionBudget allows one eviction")
	err = evict(pods.Items[1].Name)
	require.Error(t, err, "the PodDisruptionBudget must refuse the second eviction")
	assert.True(t, apierrors.IsTooManyRequests(err), "%v", err)
	assert.Contains(t, err.Error(), "disruption budget")
	waitPods(ctx, t, c, WebhookNamespace, "app.kubernetes.io/component=webhook", 2)
}

// assertLockedDown checks a container's process as the runtime started it: user uid (real,
// effective, saved, file system), no capabilities, no privilege escalation, a read-only root.
func assertLockedDown(t *testing.T, pid int, uid, what string) {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^Uid:\s+`+uid+`\s+`+uid+`\s+`+uid+`\s+`+uid+`$`, string(status), what)
	assert.Regexp(t, `(?m)^CapEff:\s+0+$`, string(status), what)
	assert.Regexp(t, `(?m)^NoNewPrivs:\s+1$`, string(status), what)
	mounts, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", pid))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^\S+ \S+ \S+ \S+ / ro[, ]`, string(mounts), "%s: a read-only root file system", what)
}
