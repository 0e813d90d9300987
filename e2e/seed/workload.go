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
	if _, err := r.kubectl(ctx, "", "get", "daemonset", names.DefaultConfigMap, "-n", Namespace, "-o", "yaml"); err != nil {
		return err
	}
	ds, err := r.cs.AppsV1().DaemonSets(Namespace).Get(ctx, names.DefaultConfigMap, metav1.GetOptions{})
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
	if len(problems) > 0 {
		return fmt.Errorf("the stored DaemonSet is not the proxy: %s", strings.Join(problems, "; "))
	}
	r.w.say("injected: container %s, NODE_IP from status.hostIP, hostNetwork, the %s toleration, volume %s",
		names.ContainerName, names.ControlPlaneTaint, names.VolumeName)
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
	proxy, err := waitPlaced(ctx, r.cs, Namespace, names.DefaultConfigMap, ControlPlaneNode, WorkerNode)
	if err != nil {
		return err
	}
	optedOut, err := waitPlaced(ctx, r.cs, Namespace, OptedOut, WorkerNode)
	if err != nil {
		return err
	}
	r.report.ProxyPods, r.report.OptedOutPods = podNames(proxy), podNames(optedOut)
	if _, err := r.kubectl(ctx, "", "get", "daemonsets,pods", "-n", Namespace, "-o", "wide"); err != nil {
		return err
	}
	r.w.say("%s on %s: the toleration lets the proxy onto the tainted control-plane node", proxy[ControlPlaneNode].Name, ControlPlaneNode)
	r.w.say("%s: desired 1, no pod on %s: without the toleration the taint keeps it off (counter-check)", OptedOut, ControlPlaneNode)
	return nil
}

// playKubelet runs the control-plane node's proxy pod.
func (r *run) playKubelet(ctx context.Context) error {
	pod, err := r.cs.CoreV1().Pods(Namespace).Get(ctx, r.report.ProxyPods[ControlPlaneNode], metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get pod: %w", err)
	}
	node, err := r.cs.CoreV1().Nodes().Get(ctx, ControlPlaneNode, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get node: %w", err)
	}
	k := &kubelet{cs: r.cs, haproxy: r.o.HAProxy, dir: filepath.Join(r.dir, "kubelet", pod.Name)}
	run, err := k.start(ctx, pod, node)
	if err != nil {
		return err
	}
	r.atStop("haproxy", run.proc.stop)
	r.procs = append(r.procs, run.proc)
	r.report.Proxy = run.describe()
	r.w.say("pod %s on %s: status.hostIP = %s, the node's InternalIP (the pod is on the host network)", pod.Name, ControlPlaneNode, NodeIP)
	r.w.say("volume %s: ConfigMap %s, key %s -> %s (the container's %s)", names.VolumeName, names.DefaultConfigMap,
		names.ConfigKey, run.config, names.ConfigDir)
	r.w.say("ran the image's haproxy (the distribution's binary here) with the container's environment:")
	r.w.say("  %s", r.report.Proxy)
	if _, err := r.kubectl(ctx, "", "get", "pods", "-n", Namespace, "-o", "wide"); err != nil {
		return err
	}
	r.w.say("the pods on %s stay Pending: nobody plays that node's kubelet", WorkerNode)
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
