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

// waitPods waits until want pods with the label selector run Ready, and returns them by node.
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
		for _, p := range pods.Items {
			if ready(&p) {
				byNode[p.Spec.NodeName] = p.Name
			}
			states = append(states, fmt.Sprintf("%s on %q: %s", p.Name, p.Spec.NodeName, p.Status.Phase))
		}
		if len(byNode) != want {
			return fmt.Errorf("%d of %d pods Ready: %s", len(byNode), want, strings.Join(states, "; "))
		}
		return nil
	})
	require.NoError(t, err, "pods %s in %s", selector, ns)
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
	auth := `Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)`
	if tok != "" {
		auth = "Authorization: Bearer " + tok
	}
	script := fmt.Sprintf(`curl -sS --max-time 10 -w '\n%%{http_code}' -H "%s" "http://${NODE_IP}:%s%s"`, auth, port, path)
	out, _, err := c.Kubectl(ctx, "", "exec", "-n", seed.Namespace, pod, "--", "sh", "-c", script)
	require.NoError(t, err)
	out = strings.TrimRight(out, "\n")
	i := strings.LastIndexByte(out, '\n')
	status, err := strconv.Atoi(out[i+1:])
	require.NoError(t, err, out)
	return status, out[:max(i, 0)]
}
