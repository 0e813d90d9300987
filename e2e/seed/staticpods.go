package seed

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// componentPods are the pods of the components as the API server shows them on a kubeadm
// cluster: the kubelet's mirror pods of the control-plane node's static pods (labels component
// and tier: control-plane, host network), and kube-proxy's DaemonSet pods (k8s-app: kube-proxy)
// on every node. The processes behind them are the scenario's (kube-proxy's a stand-in).
func componentPods() []*corev1.Pod {
	static := func(component, image string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: component + "-" + ControlPlaneNode, Namespace: "kube-system",
				Labels: map[string]string{"component": component, "tier": "control-plane"},
				Annotations: map[string]string{
					"kubernetes.io/config.source": "file",
					"kubernetes.io/config.mirror": "e2e-" + component,
				},
			},
			Spec: corev1.PodSpec{
				NodeName: ControlPlaneNode, HostNetwork: true, PriorityClassName: "system-node-critical",
				Containers: []corev1.Container{{Name: component, Image: image}},
			},
		}
	}
	pods := []*corev1.Pod{
		static("kube-controller-manager", "registry.k8s.io/kube-controller-manager:v1.37.2"),
		static("kube-scheduler", "registry.k8s.io/kube-scheduler:v1.37.2"),
		static("etcd", "registry.k8s.io/etcd:3.6.16-0"),
	}
	for _, node := range []string{ControlPlaneNode, WorkerNode} {
		pods = append(pods, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy-" + node, Namespace: "kube-system",
				Labels: map[string]string{"k8s-app": "kube-proxy"}},
			Spec: corev1.PodSpec{
				NodeName: node, HostNetwork: true, PriorityClassName: "system-node-critical",
				Containers:  []corev1.Container{{Name: "kube-proxy", Image: "registry.k8s.io/kube-proxy:v1.37.2"}},
				Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			},
		})
	}
	return pods
}

// applyComponentPods creates the component pods and reports them Running and Ready on their
// node's IP, as each node's kubelet does.
func (r *run) applyComponentPods(ctx context.Context) error {
	ips := map[string]string{ControlPlaneNode: NodeIP, WorkerNode: WorkerIP}
	for _, p := range componentPods() {
		created, err := r.cs.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("pod %s/%s: %w", p.Namespace, p.Name, err)
		}
		k := &kubelet{cs: r.cs}
		if err := k.reportRunning(ctx, created, &created.Spec.Containers[0], ips[p.Spec.NodeName]); err != nil {
			return err
		}
	}
	_, err := r.kubectl(ctx, "", "get", "pods", "-n", "kube-system", "-L", "component,k8s-app", "-o", "wide")
	return err
}
