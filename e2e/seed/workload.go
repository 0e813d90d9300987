package seed

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
)

// optedOutYAML is a DaemonSet in the enabled namespace that opts out: its own container, no
// toleration. The webhook must leave it alone, so it gets no pod on the tainted control plane.
const optedOutYAML = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ` + OptedOut + `
  namespace: ` + Namespace + `
  labels:
    metrics-proxy.io/inject: "false"
spec:
  selector:
    matchLabels: {app: ` + OptedOut + `}
  template:
    metadata:
      labels: {app: ` + OptedOut + `}
    spec:
      containers:
      - name: agent
        image: registry.k8s.io/pause:3.10
`

// applyRender labels the namespace and applies the output of `metrics-proxy render`.
func (r *run) applyRender(ctx context.Context) error {
	if _, err := r.kubectl(ctx, "", "create", "namespace", Namespace); err != nil {
		return err
	}
	if _, err := r.kubectl(ctx, "", "label", "namespace", Namespace, names.NamespaceInjectionLabel+"=enabled"); err != nil {
		return err
	}
	docs, err := manifest.Render(manifest.RenderOptions{Namespace: Namespace,
		ScraperNamespace: Namespace, ScraperServiceAccount: Scraper})
	if err != nil {
		return err
	}
	var rendered bytes.Buffer
	if err := manifest.Write(&rendered, docs); err != nil {
		return err
	}
	cli := fmt.Sprintf("metrics-proxy render --namespace %s --scraper %s/%s", Namespace, Namespace, Scraper)
	r.w.command("%s   # run in-process: the render command's own code (manifest.Render)", cli)
	r.w.block(rendered.String())
	r.w.command("%s | kubectl apply -f -", cli)
	out, stderr, err := r.cp.Kubectl(ctx, rendered.String(), "apply", "-f", "-")
	r.w.block(out)
	r.w.block(stderr)
	return err
}

// showDaemonSet prints the stored DaemonSet and checks what injection promises.
func (r *run) showDaemonSet(ctx context.Context) error {
	if _, err := r.kubectl(ctx, "", "get", "daemonset", names.ControlPlaneDaemonSet, "-n", Namespace, "-o", "yaml"); err != nil {
		return err
	}
	ds, err := r.cs.AppsV1().DaemonSets(Namespace).Get(ctx, names.ControlPlaneDaemonSet, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get DaemonSet: %w", err)
	}
	spec := ds.Spec.Template.Spec
	var problems []string
	if !spec.HostNetwork {
		problems = append(problems, "not on the host network")
	}
	if !tolerates(spec.Tolerations, names.ControlPlaneTaint) {
		problems = append(problems, "no control-plane toleration")
	}
	if _, err := proxyContainer(&corev1.Pod{Spec: spec}); err != nil {
		problems = append(problems, err.Error())
	}
	if len(spec.InitContainers) != 1 || spec.InitContainers[0].Name != names.ProxyCertContainer {
		problems = append(problems, "no "+names.ProxyCertContainer+" init container for the TLS frontends")
	}
	if len(problems) > 0 {
		return fmt.Errorf("the stored DaemonSet is not the proxy: %s", strings.Join(problems, "; "))
	}
	r.w.say("injected: container %s, NODE_IP from status.hostIP, hostNetwork, the %s toleration, volume %s;",
		names.ContainerName, names.ControlPlaneTaint, names.VolumeName)
	r.w.say("for the TLS frontends on 10257 and 10259: init container %s (metrics-proxy proxy-cert) and the in-memory volume %s at %s",
		names.ProxyCertContainer, names.CertVolume, names.CertDir)
	return nil
}

// applyOptedOut applies the opted-out DaemonSet and checks the webhook left it alone.
func (r *run) applyOptedOut(ctx context.Context) error {
	r.w.block(optedOutYAML)
	if _, err := r.kubectl(ctx, optedOutYAML, "apply", "-f", "-"); err != nil {
		return err
	}
	out, err := r.kubectl(ctx, "", "get", "daemonset", OptedOut, "-n", Namespace, "-o",
		`jsonpath=containers: {.spec.template.spec.containers[*].name}; tolerations: {.spec.template.spec.tolerations}; hostNetwork: {.spec.template.spec.hostNetwork}{"\n"}`)
	if err != nil {
		return err
	}
	if strings.Contains(out, names.ContainerName) || strings.Contains(out, names.ControlPlaneTaint) {
		return fmt.Errorf("the opted-out DaemonSet was injected: %s", out)
	}
	return nil
}

// waitPods waits until the proxy has a pod bound on both nodes and the opted-out DaemonSet on
// the worker only.
func (r *run) waitPods(ctx context.Context) error {
	proxy, err := waitPlaced(ctx, r.cs, Namespace, names.ControlPlaneDaemonSet, ControlPlaneNode)
	if err != nil {
		return err
	}
	nodes, err := waitPlaced(ctx, r.cs, Namespace, names.NodesDaemonSet, WorkerNode)
	if err != nil {
		return err
	}
	for node, pod := range nodes {
		proxy[node] = pod
	}
	optedOut, err := waitPlaced(ctx, r.cs, Namespace, OptedOut, WorkerNode)
	if err != nil {
		return err
	}
	r.report.ProxyPods, r.report.OptedOutPods = podNames(proxy), podNames(optedOut)
	if _, err := r.kubectl(ctx, "", "get", "daemonsets,pods", "-n", Namespace, "-o", "wide"); err != nil {
		return err
	}
	r.w.say("%s on %s: the nodeSelector puts the control-plane proxy there, the toleration lets it onto the tainted node", proxy[ControlPlaneNode].Name, ControlPlaneNode)
	r.w.say("%s on %s: the nodes proxy (kube-proxy only) avoids control-plane nodes by affinity", proxy[WorkerNode].Name, WorkerNode)
	r.w.say("%s: desired 1, no pod on %s: without the toleration the taint keeps it off (counter-check)", OptedOut, ControlPlaneNode)
	return nil
}

// playKubelet runs the proxy pod of each node.
func (r *run) playKubelet(ctx context.Context) error {
	if r.o.MetricsProxy == "" {
		bin, err := BuildMetricsProxy(ctx, r.dir)
		if err != nil {
			return err
		}
		r.o.MetricsProxy = bin
	}
	for _, n := range []struct{ node, ip, config string }{
		{ControlPlaneNode, NodeIP, names.ControlPlaneDaemonSet}, {WorkerNode, WorkerIP, names.NodesDaemonSet},
	} {
		pod, err := r.cs.CoreV1().Pods(Namespace).Get(ctx, r.report.ProxyPods[n.node], metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get pod: %w", err)
		}
		node, err := r.cs.CoreV1().Nodes().Get(ctx, n.node, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("get node: %w", err)
		}
		k := &kubelet{cs: r.cs, haproxy: r.o.HAProxy, metricsProxy: r.o.MetricsProxy, dir: filepath.Join(r.dir, "kubelet", pod.Name)}
		run, err := k.start(ctx, pod, node)
		if err != nil {
			return fmt.Errorf("%s: %w", n.node, err)
		}
		r.kubelets[n.node] = &played{k: k, pod: pod, node: node, run: run}
		r.atStop("haproxy on "+n.node, func() { r.kubelets[n.node].run.proc.stop() })
		r.procs = append(r.procs, run.proc)
		if n.node == ControlPlaneNode {
			r.report.Proxy = run.describe()
		}
		r.w.say("pod %s on %s: status.hostIP = %s, the node's InternalIP (the pod is on the host network)", pod.Name, n.node, n.ip)
		for _, out := range k.initOutput {
			r.w.say("init container %s", out)
		}
		r.w.say("volume %s: ConfigMap %s, key %s -> %s (the container's %s)", names.VolumeName, n.config,
			names.ConfigKey, run.config, names.ConfigDir)
		r.w.say("ran the image's haproxy (the distribution's binary here) with the container's environment:")
		r.w.say("  %s", run.describe())
	}
	if _, err := r.kubectl(ctx, "", "get", "pods", "-n", Namespace, "-o", "wide"); err != nil {
		return err
	}
	return nil
}

// played is a proxy pod the scenario's kubelet runs.
type played struct {
	k    *kubelet
	pod  *corev1.Pod
	node *corev1.Node
	run  *running
}

// restart stops the pod's haproxy and starts the pod again (init container included) on its
// ConfigMap as stored now: what a rollout of the DaemonSet does to the pod.
func (p *played) restart(ctx context.Context) error {
	p.run.proc.stop()
	run, err := p.k.start(ctx, p.pod, p.node)
	if err != nil {
		return err
	}
	p.run = run
	return nil
}

func tolerates(ts []corev1.Toleration, key string) bool {
	for _, t := range ts {
		if t.Key == key && t.Operator == corev1.TolerationOpExists {
			return true
		}
	}
	return false
}

func podNames(pods map[string]corev1.Pod) map[string]string {
	names := map[string]string{}
	for node, p := range pods {
		names[node] = p.Name
	}
	return names
}
