package seed

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/metrics-proxy/injector/e2e/dataplane"
	"github.com/metrics-proxy/injector/webhook/names"
)

// The two nodes of the scenario, on loopback addresses other than the components' 127.0.0.1, or
// on the addresses UseNodeIPs gives (inside a network namespace of the scenario's own).
const (
	// ControlPlaneNode is tainted node-role.kubernetes.io/control-plane:NoSchedule; its
	// InternalIP is NodeIP, where the proxy binds.
	ControlPlaneNode = "control-plane-1"
	// WorkerNode is an untainted node at WorkerIP.
	WorkerNode = "worker-1"
)

var (
	// NodeIP is the control-plane node's InternalIP: what status.hostIP gives its pods.
	NodeIP = dataplane.DefaultNodeIP
	// WorkerIP is the worker's InternalIP.
	WorkerIP = "127.0.0.3"
)

// UseNodeIPs makes the scenario's nodes controlPlane and worker instead of loopback addresses:
// the API server refuses loopback addresses in EndpointSlices, so the Prometheus proof runs in a
// network namespace of its own where these addresses are local (see NetnsSetup). The scenario
// dials them like loopback addresses. Call it before Run, once.
func UseNodeIPs(controlPlane, worker string) {
	NodeIP, WorkerIP = controlPlane, worker
	localIPs[controlPlane], localIPs[worker] = true, true
}

// nodeSpec is a Node to register.
type nodeSpec struct {
	name, ip     string
	controlPlane bool
}

func scenarioNodes() []nodeSpec {
	return []nodeSpec{{name: ControlPlaneNode, ip: NodeIP, controlPlane: true}, {name: WorkerNode, ip: WorkerIP}}
}

// registerNode creates the Node as a kubelet would register it, reports it Ready through the
// status subresource and lifts the not-ready taint. No node lifecycle controller runs, so nothing
// marks it NotReady later for the missing heartbeats.
func registerNode(ctx context.Context, cs kubernetes.Interface, n nodeSpec) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: map[string]string{
		"kubernetes.io/hostname": n.name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
	}}}
	if n.controlPlane {
		node.Labels[names.ControlPlaneTaint] = ""
		node.Spec.Taints = []corev1.Taint{{Key: names.ControlPlaneTaint, Effect: corev1.TaintEffectNoSchedule}}
	}
	created, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("register node %s: %w", n.name, err)
	}
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("2"),
		corev1.ResourceMemory: resource.MustParse("4Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	created.Status = corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: n.ip},
			{Type: corev1.NodeHostName, Address: n.name},
		},
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			Message: "the metrics-proxy e2e scenario plays this node's kubelet", LastHeartbeatTime: now, LastTransitionTime: now,
		}},
		NodeInfo: corev1.NodeSystemInfo{OperatingSystem: "linux", Architecture: "amd64", KubeletVersion: "e2e-scenario"},
	}
	if _, err := cs.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("node %s status: %w", n.name, err)
	}
	return untaintReady(ctx, cs, n.name)
}

// untaintReady removes the node.kubernetes.io/not-ready taint that the API server's
// TaintNodesByCondition admission puts on every new Node, as the node lifecycle controller does
// once the node reports Ready. Daemon pods do not tolerate it (NoSchedule).
func untaintReady(ctx context.Context, cs kubernetes.Interface, name string) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		var kept []corev1.Taint
		for _, t := range node.Spec.Taints {
			if t.Key != corev1.TaintNodeNotReady {
				kept = append(kept, t)
			}
		}
		if len(kept) == len(node.Spec.Taints) {
			return nil
		}
		node.Spec.Taints = kept
		_, err = cs.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("node %s: remove the %s taint: %w", name, corev1.TaintNodeNotReady, err)
	}
	return nil
}

// internalIP returns the node's InternalIP: what the kubelet reports as status.hostIP of its pods.
func internalIP(node *corev1.Node) (string, error) {
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address, nil
		}
	}
	return "", fmt.Errorf("node %s has no InternalIP", node.Name)
}
