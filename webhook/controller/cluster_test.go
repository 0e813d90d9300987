package controller_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/names"
)

// registerNode creates a Ready node as a kubelet would, without the not-ready taint; a
// control-plane node carries the control-plane taint.
func registerNode(ctx context.Context, cs kubernetes.Interface, name string, controlPlane bool) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}}}
	if controlPlane {
		node.Spec.Taints = []corev1.Taint{{Key: names.ControlPlaneTaint, Effect: corev1.TaintEffectNoSchedule}}
	}
	created, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("register node %s: %w", name, err)
	}
	capacity := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("4Gi"), corev1.ResourcePods: resource.MustParse("110")}
	now := metav1.Now()
	created.Status = corev1.NodeStatus{Capacity: capacity, Allocatable: capacity,
		Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIPs[name]}},
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}}}
	if created, err = cs.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("node %s status: %w", name, err)
	}
	var kept []corev1.Taint
	for _, t := range created.Spec.Taints {
		if t.Key != corev1.TaintNodeNotReady {
			kept = append(kept, t)
		}
	}
	created.Spec.Taints = kept
	if _, err := cs.CoreV1().Nodes().Update(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("node %s: remove the not-ready taint: %w", name, err)
	}
	return nil
}

// kubeletDelay is how long the played kubelet takes to start a pod or to stop a deleted one.
const kubeletDelay = 300 * time.Millisecond

// playKubelet plays every node's kubelet until ctx ends: a pod bound to a node becomes Running
// and Ready kubeletDelay after it was first seen, a deleted (terminating) pod goes away
// kubeletDelay after its deletion started. It polls every 100 ms.
func playKubelet(ctx context.Context, cs kubernetes.Interface) {
	seen := map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			continue
		}
		present := map[string]bool{}
		for _, p := range pods.Items {
			present[string(p.UID)] = true
		}
		proxies.stopGone(present)
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.Spec.NodeName == "" {
				continue
			}
			if p.DeletionTimestamp != nil {
				proxies.stop(string(p.UID)) // the kubelet stops the containers first
				grace := time.Duration(ptr.Deref(p.DeletionGracePeriodSeconds, 0)) * time.Second
				if time.Since(p.DeletionTimestamp.Time) > kubeletDelay-grace {
					_ = cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
				}
				continue
			}
			if podReady(p) {
				continue
			}
			first, ok := seen[string(p.UID)]
			if !ok {
				seen[string(p.UID)] = time.Now()
				continue
			}
			if time.Since(first) < kubeletDelay {
				continue
			}
			if _, err := proxies.start(ctx, p); err != nil {
				fmt.Fprintf(os.Stderr, "played kubelet: %v\n", err)
				continue
			}
			now := metav1.Now()
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
				{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
				{Type: corev1.ContainersReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
				{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
			}
			p.Status.StartTime = &now
			p.Status.HostIP = nodeIPs[p.Spec.NodeName]
			_, _ = cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		}
	}
}

// podReady reports whether p is Ready and not terminating: a proxy that serves.
func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// countingClient is the manager's client that counts the writes made through it.
type countingClient struct {
	client.Client
	mu     sync.Mutex
	counts map[string]int // "verb kind namespace/name"
	total  atomic.Int64
}

func (c *countingClient) count(verb string, obj client.Object) {
	c.total.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[fmt.Sprintf("%s %s/%s", verb, obj.GetNamespace(), obj.GetName())]++
}

// writes returns how many writes of verb were made on namespace/name.
func (c *countingClient) writes(verb, namespace, name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[fmt.Sprintf("%s %s/%s", verb, namespace, name)]
}

func (c *countingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	c.count("patch", obj)
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c *countingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	c.count("update", obj)
	return c.Client.Update(ctx, obj, opts...)
}

func (c *countingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	c.count("create", obj)
	return c.Client.Create(ctx, obj, opts...)
}

func (c *countingClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	c.count("delete", obj)
	return c.Client.Delete(ctx, obj, opts...)
}

func (c *countingClient) Status() client.SubResourceWriter {
	return countingStatus{SubResourceWriter: c.Client.Status(), c: c}
}

// countingStatus counts the status writes of countingClient.
type countingStatus struct {
	client.SubResourceWriter
	c *countingClient
}

func (s countingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	s.c.count("status-patch", obj)
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (s countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	s.c.count("status-update", obj)
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}
