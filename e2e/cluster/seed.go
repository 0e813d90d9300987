//go:build linux

package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/e2e/seed"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestPodName is the seed's test pod, with the scraper's service account, on the control-plane node.
const TestPodName = "test-pod"

// KubeProxyMetric is a metric only the real kube-proxy exports.
const KubeProxyMetric = "kubeproxy_sync_proxy_rules_duration_seconds"

// Scrape is one of the seed's curl commands run in the test pod, what it must return and what it did.
type Scrape struct {
	// Port and Path are requested at the test pod's NODE_IP; As names the token's service account.
	Port, Path, As string
	// Want is the status the seed promises and Text a text the body must contain.
	Want int
	Text string
	// Status and Body are what came back (Status 0: no HTTP answer, Body says why).
	Status int
	Body   string
}

// OK reports whether the scrape returned what it had to.
func (s Scrape) OK() bool { return s.Status == s.Want && strings.Contains(s.Body, s.Text) }

// String is the scrape in one line.
func (s Scrape) String() string {
	line := fmt.Sprintf("GET $NODE_IP:%-5s %-14s as %-10s -> %d", s.Port, s.Path, s.As, s.Status)
	if s.OK() {
		line += fmt.Sprintf(", body has %q", s.Text)
	} else {
		line += fmt.Sprintf("; UNEXPECTED: want %d with %q", s.Want, s.Text)
	}
	return line
}

// ScrapePlan is the seed's curl commands for all four components with the scraper's token (200),
// paths HAProxy must deny itself (403), and the authenticating components with a token without
// the metrics-reader binding (403 from the component).
func ScrapePlan() []Scrape {
	return []Scrape{
		{Port: "10257", Path: "/metrics", As: seed.Scraper, Want: 200, Text: seed.ComponentMetric["kube-controller-manager"]},
		{Port: "10259", Path: "/metrics", As: seed.Scraper, Want: 200, Text: seed.ComponentMetric["kube-scheduler"]},
		{Port: "2381", Path: "/metrics", As: seed.Scraper, Want: 200, Text: seed.ComponentMetric["etcd"]},
		{Port: "10249", Path: "/metrics", As: seed.Scraper, Want: 200, Text: KubeProxyMetric},
		{Port: "10257", Path: "/configz", As: seed.Scraper, Want: 403, Text: seed.HAProxyDenial},
		{Port: "10259", Path: "/debug/pprof/", As: seed.Scraper, Want: 403, Text: seed.HAProxyDenial},
		{Port: "2381", Path: "/debug/vars", As: seed.Scraper, Want: 403, Text: seed.HAProxyDenial},
		{Port: "10249", Path: "/configz", As: seed.Scraper, Want: 403, Text: seed.HAProxyDenial},
		{Port: "10257", Path: "/metrics", As: seed.Intruder, Want: 403, Text: "forbidden"},
		{Port: "10259", Path: "/metrics", As: seed.Intruder, Want: 403, Text: "forbidden"},
	}
}

// SeedReport is what RunSeed observed.
type SeedReport struct {
	// Proxies maps each node to its proxy pod; Env to the NODE_IP its haproxy process has.
	Proxies, Env map[string]string
	// ConfigMounted maps each node to whether its haproxy reads exactly the ConfigMap's haproxy.cfg.
	ConfigMounted map[string]bool
	// Scrapes are the curl commands of the test pod, in order.
	Scrapes []Scrape
}

// RunSeed runs the seed procedure on the cluster as its page does, narrated to out: metrics-proxy
// installed with `kubectl apply -k deploy/overlays/self-signed`, the namespace labelled, render's
// output applied, the proxy's pods on every node, then the seed's test pod runs its curl commands.
// An expectation the seed sets that is not met is an error; the report holds what was seen.
func (c *Cluster) RunSeed(ctx context.Context, out io.Writer) (*SeedReport, error) {
	r := &SeedReport{Env: map[string]string{}, ConfigMounted: map[string]bool{}}
	start := time.Now()
	fmt.Fprintf(out, "$ kubectl apply -k .   # resources: [deploy/overlays/self-signed], images: [{name: metrics-proxy, newName: %s, newTag: %s}], the image loaded on every node\n", webhookName, webhookTag)
	if err := c.InstallWebhook(ctx, "self-signed"); err != nil {
		return r, err
	}
	fmt.Fprintf(out, "  both webhook replicas Ready through their probes (%.1fs)\n", time.Since(start).Seconds())
	start = time.Now()
	fmt.Fprintf(out, "$ kubectl label namespace %[1]s %[2]s=enabled; metrics-proxy render --namespace %[1]s --scraper %[1]s/%[3]s | kubectl apply -f -\n",
		seed.Namespace, names.NamespaceInjectionLabel, seed.Scraper)
	if err := c.ApplySeed(ctx); err != nil {
		return r, err
	}
	var err error
	if r.Proxies, err = c.WaitPods(ctx, seed.Namespace, "app.kubernetes.io/name="+names.DefaultConfigMap, len(c.Nodes)); err != nil {
		return r, err
	}
	fmt.Fprintf(out, "  the proxy runs on every node (%.1fs): %v\n", time.Since(start).Seconds(), r.Proxies)
	for _, n := range c.Nodes {
		// render splits the proxy: metrics-proxy-control-plane there, metrics-proxy-nodes elsewhere.
		proxy := names.NodesDaemonSet
		if n.Name == ControlPlaneNode {
			proxy = names.ControlPlaneDaemonSet
		}
		cm, err := c.Client.CoreV1().ConfigMaps(seed.Namespace).Get(ctx, proxy, metav1.GetOptions{})
		if err != nil {
			return r, fmt.Errorf("the proxy ConfigMap %s: %w", proxy, err)
		}
		pid, err := n.ContainerPID(ctx, names.ContainerName)
		if err != nil {
			return r, err
		}
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		for _, kv := range strings.Split(string(env), "\x00") {
			if v, ok := strings.CutPrefix(kv, "NODE_IP="); ok {
				r.Env[n.Name] = v
			}
		}
		mounted, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/usr/local/etc/haproxy/haproxy.cfg", pid))
		r.ConfigMounted[n.Name] = err == nil && string(mounted) == cm.Data[names.ConfigKey]
		fmt.Fprintf(out, "  %s: haproxy pid %d (containerd, runc), NODE_IP=%s from status.hostIP, haproxy.cfg mounted by the kubelet: %t\n",
			n.Name, pid, r.Env[n.Name], r.ConfigMounted[n.Name])
		if r.Env[n.Name] != n.IP || !r.ConfigMounted[n.Name] {
			return r, fmt.Errorf("the proxy on %s: NODE_IP %q (want %s), config mounted %t", n.Name, r.Env[n.Name], n.IP, r.ConfigMounted[n.Name])
		}
	}
	fmt.Fprintf(out, "$ kubectl apply -f test-pod.yaml   # the seed's test pod, service account %s, on %s\n", seed.Scraper, ControlPlaneNode)
	if err := c.TestPod(ctx); err != nil {
		return r, err
	}
	intruder, err := c.Token(ctx, seed.Intruder)
	if err != nil {
		return r, err
	}
	fmt.Fprintf(out, "$ kubectl exec %s -- sh -c 'curl -H \"Authorization: Bearer $TOKEN\" http://$NODE_IP:PORT/PATH'\n", TestPodName)
	var failed []string
	for _, s := range ScrapePlan() {
		tok := ""
		if s.As == seed.Intruder {
			tok = intruder
		}
		s.Status, s.Body = c.Curl(ctx, TestPodName, s.Port, s.Path, tok)
		r.Scrapes = append(r.Scrapes, s)
		fmt.Fprintf(out, "  %s\n", s)
		if !s.OK() {
			failed = append(failed, s.Port+s.Path+" as "+s.As)
		}
	}
	if len(failed) > 0 {
		return r, fmt.Errorf("%d scrapes did not return what the seed promises: %s", len(failed), strings.Join(failed, ", "))
	}
	return r, nil
}

// ApplySeed labels the seed's namespace, creates the scraper's and the intruder's service
// accounts and applies what `metrics-proxy render` prints.
func (c *Cluster) ApplySeed(ctx context.Context) error {
	// TLS none: the seed's all-HTTP frontends, which this test pod's curl commands scrape (the
	// TLS frontends and the Prometheus proof run on the played kubelet, e2e/seed).
	docs, err := manifest.Render(manifest.RenderOptions{Namespace: seed.Namespace, ScraperNamespace: seed.Namespace,
		ScraperServiceAccount: seed.Scraper, TLS: names.TLSNone})
	if err != nil {
		return err
	}
	var rendered bytes.Buffer
	if err := manifest.Write(&rendered, docs); err != nil {
		return err
	}
	for _, args := range [][]string{
		{"create", "namespace", seed.Namespace},
		{"label", "namespace", seed.Namespace, names.NamespaceInjectionLabel + "=enabled"},
		{"create", "serviceaccount", seed.Scraper, "-n", seed.Namespace},
		{"create", "serviceaccount", seed.Intruder, "-n", seed.Namespace},
	} {
		if _, _, err := c.Kubectl(ctx, "", args...); err != nil {
			return err
		}
	}
	_, _, err = c.Kubectl(ctx, rendered.String(), "apply", "-f", "-")
	return err
}

// WaitPods waits until exactly want pods with the label selector exist and run Ready, and
// returns them by node (the last one of a node). Its error describes the pods and their events.
func (c *Cluster) WaitPods(ctx context.Context, ns, selector string, want int) (map[string]string, error) {
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
		described, _, _ := c.Kubectl(context.Background(), "", "describe", "pods", "-n", ns, "-l", selector)
		return nil, fmt.Errorf("pods %s in %s: %w\n%s", selector, ns, err, described)
	}
	return byNode, nil
}

func ready(p *corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// TestPod creates the seed's test pod on the control-plane node, with the scraper's service
// account and NODE_IP from the downward API, and waits until it runs.
func (c *Cluster) TestPod(ctx context.Context) error {
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
`, TestPodName, seed.Namespace, seed.Scraper, ControlPlaneNode, CurlRef), "apply", "-f", "-")
	if err != nil {
		return err
	}
	_, err = c.WaitPods(ctx, seed.Namespace, "app=seed-test-pod", 1)
	return err
}

// Token is a TokenRequest token of a service account of the seed's namespace.
func (c *Cluster) Token(ctx context.Context, sa string) (string, error) {
	tr, err := c.Client.CoreV1().ServiceAccounts(seed.Namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token of %s: %w", sa, err)
	}
	return tr.Status.Token, nil
}

// Curl runs the seed's curl in the pod through kubectl exec, with the pod's own token (the
// scraper's) when tok is empty. It returns the status and the body, or 0 and why there was no
// HTTP answer.
func (c *Cluster) Curl(ctx context.Context, pod, port, path, tok string) (int, string) {
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
