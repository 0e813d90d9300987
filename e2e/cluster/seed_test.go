package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/e2e/seed"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestSeedOnRealNodes runs the seed procedure on real nodes: metrics-proxy installed with
// `kubectl apply -k deploy/overlays/self-signed` (its two replicas as pods), the namespace
// labelled, render's output applied, the webhook completes the stubs; the DaemonSet's pods then run the real haproxy
// container on both nodes with NODE_IP from the downward API and the ConfigMap the kubelet
// mounted, and the seed's test pod scrapes the control-plane node's components through it with
// the scraper's token (200), while HAProxy denies other paths and the components deny a token
// without the binding (403).
func TestSeedOnRealNodes(t *testing.T) {
	ctx := testContext(t)
	c := up(ctx, t, 1)
	start := time.Now()
	require.NoError(t, c.InstallWebhook(ctx, "self-signed"))
	t.Logf("kubectl apply -k deploy/overlays/self-signed: both webhook replicas Ready in %s", time.Since(start).Round(100*time.Millisecond))
	start = time.Now()

	applySeed(ctx, t, c)
	proxies := waitPods(ctx, t, c, seed.Namespace, "app.kubernetes.io/name="+names.DefaultConfigMap, len(c.Nodes))
	cm, err := c.Client.CoreV1().ConfigMaps(seed.Namespace).Get(ctx, names.DefaultConfigMap, metav1.GetOptions{})
	require.NoError(t, err)
	require.Contains(t, cm.Data[names.ConfigKey], "bind ${NODE_IP}:10257", "the webhook filled the stub ConfigMap")
	for _, n := range c.Nodes {
		require.Contains(t, proxies, n.Name, "a proxy pod on every node, the tainted control-plane node included")
		pid, err := n.ContainerPID(ctx, "haproxy")
		require.NoError(t, err)
		environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		require.NoError(t, err)
		assert.Contains(t, strings.Split(string(environ), "\x00"), "NODE_IP="+n.IP, "NODE_IP from status.hostIP on %s", n.Name)
		mounted, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/usr/local/etc/haproxy/haproxy.cfg", pid))
		require.NoError(t, err)
		assert.Equal(t, cm.Data[names.ConfigKey], string(mounted), "the kubelet mounted the ConfigMap on %s", n.Name)
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		require.NoError(t, err)
		assert.Contains(t, exe, "haproxy")
	}

	t.Logf("the proxy runs on every node %s after render's output was applied", time.Since(start).Round(100*time.Millisecond))
	assertControlPlanePods(ctx, t, c)
	assertTolerationPlacesProxy(ctx, t, c)
	pod := testPod(ctx, t, c)
	intruder := token(ctx, t, c, seed.Intruder)
	for _, s := range []struct {
		port, path string
		token      string
		want       int
		text       string
	}{
		{"10257", "/metrics", "", 200, seed.ComponentMetric["kube-controller-manager"]},
		{"10259", "/metrics", "", 200, seed.ComponentMetric["kube-scheduler"]},
		{"2381", "/metrics", "", 200, seed.ComponentMetric["etcd"]},
		{"10249", "/metrics", "", 200, "kubeproxy_sync_proxy_rules_duration_seconds"},
		{"10257", "/configz", "", 403, seed.HAProxyDenial},
		{"10259", "/debug/pprof/", "", 403, seed.HAProxyDenial},
		{"2381", "/debug/vars", "", 403, seed.HAProxyDenial},
		{"10257", "/metrics", intruder, 403, "forbidden"},
		{"10259", "/metrics", intruder, 403, "forbidden"},
	} {
		status, body := curl(ctx, t, c, pod, s.port, s.path, s.token)
		as := seed.Scraper
		if s.token != "" {
			as = seed.Intruder
		}
		t.Logf("GET $NODE_IP:%s%s as %s -> %d", s.port, s.path, as, status)
		assert.Equal(t, s.want, status, "GET :%s%s as %s: %s", s.port, s.path, as, body)
		assert.Contains(t, body, s.text, "GET :%s%s as %s", s.port, s.path, as)
	}
	assertTamperDenied(ctx, t, c)
	if t.Failed() {
		return
	}
	t.Run("webhook pods gone", func(t *testing.T) { faultWebhookGone(ctx, t, c) })
	t.Run("proxy container killed", func(t *testing.T) { faultProxyKilled(ctx, t, c, pod) })
	t.Run("kubelet stopped and restarted", func(t *testing.T) { faultKubeletRestarted(ctx, t, c, pod) })
}

// applySeed labels the namespace, creates the service accounts and applies render's output.
func applySeed(ctx context.Context, t *testing.T, c *Cluster) {
	t.Helper()
	docs, err := manifest.Render(manifest.RenderOptions{Namespace: seed.Namespace, ScraperNamespace: seed.Namespace, ScraperServiceAccount: seed.Scraper})
	require.NoError(t, err)
	var rendered bytes.Buffer
	require.NoError(t, manifest.Write(&rendered, docs))
	for _, args := range [][]string{
		{"create", "namespace", seed.Namespace},
		{"label", "namespace", seed.Namespace, names.NamespaceInjectionLabel + "=enabled"},
		{"create", "serviceaccount", seed.Scraper, "-n", seed.Namespace},
		{"create", "serviceaccount", seed.Intruder, "-n", seed.Namespace},
	} {
		_, _, err := c.Kubectl(ctx, "", args...)
		require.NoError(t, err)
	}
	_, _, err = c.Kubectl(ctx, rendered.String(), "apply", "-f", "-")
	require.NoError(t, err)
}

// waitPods waits until exactly want pods with the label selector exist and run Ready, and returns
// them by node (the last one of a node).
func waitPods(ctx context.Context, t *testing.T, c *Cluster, ns, selector string, want int) map[string]string {
	t.Helper()
	byNode := map[string]string{}
	err := poll(ctx, 2*time.Minute, nil, func(ctx context.Context) error {
		pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return err
		}
		byNode = map[string]string{}
		var states []string
		readyPods := 0
		for _, p := range pods.Items {
			if ready(&p) {
				byNode[p.Spec.NodeName] = p.Name
				readyPods++
			}
			state := fmt.Sprintf("%s on %q: %s", p.Name, p.Spec.NodeName, p.Status.Phase)
			for _, cs := range p.Status.ContainerStatuses {
				state += fmt.Sprintf(" [%s ready=%t restarts=%d]", cs.Name, cs.Ready, cs.RestartCount)
			}
			states = append(states, state)
		}
		if readyPods != want || len(pods.Items) != want {
			return fmt.Errorf("%d pods, %d Ready, want %d: %s", len(pods.Items), readyPods, want, strings.Join(states, "; "))
		}
		return nil
	})
	if err != nil {
		out, _, _ := c.Kubectl(context.Background(), "", "describe", "pods", "-n", ns, "-l", selector)
		logs, _, _ := c.Kubectl(context.Background(), "", "logs", "-n", ns, "-l", selector, "--tail=20", "--prefix")
		t.Fatalf("pods %s in %s: %v\n%s\n%s", selector, ns, err, out, logs)
	}
	return byNode
}

func ready(p *corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// testPod creates the seed's test pod on the control-plane node, with the scraper's service
// account, and waits until it runs.
func testPod(ctx context.Context, t *testing.T, c *Cluster) string {
	t.Helper()
	const name = "test-pod"
	_, _, err := c.Kubectl(ctx, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: %s, labels: {app: seed-test-pod}}
spec:
  serviceAccountName: %s
  nodeSelector: {kubernetes.io/hostname: %s}
  tolerations:
  - {key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}
  containers:
  - name: test-container
    image: %s
    command: [/usr/bin/sleep, infinity]
    env:
    - name: NODE_IP
      valueFrom: {fieldRef: {apiVersion: v1, fieldPath: status.hostIP}}
`, name, seed.Namespace, seed.Scraper, ControlPlaneNode, CurlRef), "apply", "-f", "-")
	require.NoError(t, err)
	waitPods(ctx, t, c, seed.Namespace, "app=seed-test-pod", 1)
	return name
}

// token is a TokenRequest token of a service account in the seed's namespace.
func token(ctx context.Context, t *testing.T, c *Cluster, sa string) string {
	t.Helper()
	tr, err := c.Client.CoreV1().ServiceAccounts(seed.Namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	require.NoError(t, err)
	return tr.Status.Token
}

// curl runs the seed's curl in the test pod through kubectl exec: with the pod's own token (the
// scraper's) when tok is empty. It returns the status and the body.
func curl(ctx context.Context, t *testing.T, c *Cluster, pod, port, path, tok string) (int, string) {
	t.Helper()
	status, body := curlOnce(ctx, c, pod, port, path, tok)
	require.NotZero(t, status, body)
	return status, body
}

// curlOnce is curl that returns status 0 and the error when there is no HTTP answer.
func curlOnce(ctx context.Context, c *Cluster, pod, port, path, tok string) (int, string) {
	auth := `Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)`
	if tok != "" {
		auth = "Authorization: Bearer " + tok
	}
	script := fmt.Sprintf(`curl -sS --max-time 10 -w '\n%%{http_code}' -H "%s" "http://${NODE_IP}:%s%s"`, auth, port, path)
	out, stderr, err := c.Kubectl(ctx, "", "exec", "-n", seed.Namespace, pod, "--", "sh", "-c", script)
	if err != nil {
		return 0, fmt.Sprintf("%v: %s", err, stderr)
	}
	out = strings.TrimRight(out, "\n")
	i := strings.LastIndexByte(out, '\n')
	status, err := strconv.Atoi(out[i+1:])
	if err != nil {
		return 0, out
	}
	return status, out[:max(i, 0)]
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
	ds, err := c.Client.AppsV1().DaemonSets(seed.Namespace).Get(ctx, names.DefaultConfigMap, metav1.GetOptions{})
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
	before, err := c.Client.CoreV1().ConfigMaps(seed.Namespace).Get(ctx, names.DefaultConfigMap, metav1.GetOptions{})
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
	after, err := c.Client.CoreV1().ConfigMaps(seed.Namespace).Get(ctx, names.DefaultConfigMap, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, before.Data[names.ConfigKey], after.Data[names.ConfigKey])
}
