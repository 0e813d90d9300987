//go:build linux

package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/metrics-proxy/injector/e2e/harness"
)

// KubectlTimeout bounds every kubectl run.
const KubectlTimeout = time.Minute

// Kubectl runs the real kubectl as the cluster admin with stdin and returns what it printed; a
// non-zero exit is an error carrying kubectl's stderr.
func (c *Cluster) Kubectl(ctx context.Context, stdin string, args ...string) (stdout, stderr string, err error) {
	return harness.RunKubectl(ctx, KubectlTimeout, c.KubectlPath, c.Kubeconfig, stdin, args...)
}

// ContainerPID returns the pid of the running container called name (the pod spec's container
// name) on the node, as its containerd sees it; an error when there is none or more than one.
func (n *Node) ContainerPID(ctx context.Context, name string) (int, error) {
	pids, err := n.ContainerPIDs(ctx, name)
	if err != nil {
		return 0, err
	}
	if len(pids) != 1 {
		return 0, fmt.Errorf("node %s: %d running containers called %s", n.Name, len(pids), name)
	}
	return pids[0], nil
}

// ContainerPIDs returns the pids of the running containers called name on the node.
func (n *Node) ContainerPIDs(ctx context.Context, name string) ([]int, error) {
	ids, err := n.Ctr(ctx, "containers", "ls", "-q", fmt.Sprintf("labels.%q==%s", "io.kubernetes.container.name", name))
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range strings.Fields(ids) {
		want[id] = true
	}
	tasks, err := n.Ctr(ctx, "tasks", "ls")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, line := range strings.Split(tasks, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && want[f[0]] && f[2] == "RUNNING" {
			pid, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("ctr tasks ls: %q: %w", line, err)
			}
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
