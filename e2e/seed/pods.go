package seed

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// PlacementTimeout bounds how long the daemonset controller and the scheduler may take to place
// a DaemonSet's pods.
const PlacementTimeout = 60 * time.Second

// waitPlaced waits until the daemonset controller has synced the DaemonSet's current generation
// wanting exactly len(nodes) pods, and the scheduler has bound one pod to each of nodes and to no
// other node. It returns the pods by node name.
func waitPlaced(ctx context.Context, cs kubernetes.Interface, namespace, name string, nodes ...string) (map[string]corev1.Pod, error) {
	ctx, cancel := context.WithTimeout(ctx, PlacementTimeout)
	defer cancel()
	want := append([]string(nil), nodes...)
	sort.Strings(want)
	var state string
	for {
		placed, s, err := placement(ctx, cs, namespace, name, len(want))
		if err == nil && s == strings.Join(want, ",") {
			return placed, nil
		}
		state = "pods bound to [" + s + "]"
		if err != nil {
			state = err.Error()
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("DaemonSet %s/%s: want pods bound to %v, after %s: %s", namespace, name, want, PlacementTimeout, state)
			}
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// placement returns the DaemonSet's pods by node and the sorted nodes they are bound to, or why
// the placement is not final yet.
func placement(ctx context.Context, cs kubernetes.Interface, namespace, name string, desired int) (map[string]corev1.Pod, string, error) {
	ds, err := cs.AppsV1().DaemonSets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, "", fmt.Errorf("get DaemonSet: %w", err)
	}
	if ds.Status.ObservedGeneration != ds.Generation || int(ds.Status.DesiredNumberScheduled) != desired {
		return nil, "", fmt.Errorf("daemonset controller: generation %d observed %d, desiredNumberScheduled %d",
			ds.Generation, ds.Status.ObservedGeneration, ds.Status.DesiredNumberScheduled)
	}
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, "", fmt.Errorf("DaemonSet selector: %w", err)
	}
	pods, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, "", fmt.Errorf("list pods: %w", err)
	}
	byNode := map[string]corev1.Pod{}
	var bound []string
	for _, p := range pods.Items {
		if !metav1.IsControlledBy(&p, ds) {
			continue
		}
		if p.Spec.NodeName == "" {
			return nil, "", fmt.Errorf("pod %s not bound to a node yet", p.Name)
		}
		byNode[p.Spec.NodeName] = p
		bound = append(bound, p.Spec.NodeName)
	}
	sort.Strings(bound)
	return byNode, strings.Join(bound, ","), nil
}
