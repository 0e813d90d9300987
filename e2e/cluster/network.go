//go:build linux

package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// The cluster's network: every node is a network namespace whose eth0 is one end of a veth
// pair; the other ends hang on a bridge of this machine that holds HostIP. Nodes, the API server
// and the pods reach each other over that bridge and the nodes' CNI bridges only; nothing is
// routed to or from the machine's other interfaces. 198.18.0.0/15 is the benchmarking range.
const (
	// Prefix names everything the cluster creates on this machine (bridge, namespaces, veths,
	// cgroups), so that a run finds what a killed run left.
	Prefix = "mpe2e"
	// Bridge is the bridge the nodes' veths hang on.
	Bridge = Prefix + "br0"
	// HostIP is this machine's address on the bridge.
	HostIP = "198.18.100.1"
	// ServiceCIDR holds the Services' cluster IPs; KubernetesServiceIP is the API server's.
	ServiceCIDR         = "198.19.240.0/24"
	KubernetesServiceIP = "198.19.240.1"
)

// NodeIP is the address of node i (1-based) on the bridge: its InternalIP.
func NodeIP(i int) string { return fmt.Sprintf("198.18.100.%d", 10+i) }

// PodCIDR is the pod subnet of node i, on its own CNI bridge.
func PodCIDR(i int) string { return fmt.Sprintf("198.19.%d.0/24", 100+i) }

// netnsName is the network namespace of the node called name.
func netnsName(name string) string { return Prefix + "-" + name }

// vethName is the host end of node i's veth.
func vethName(i int) string { return fmt.Sprintf("%sh%d", Prefix, i) }

// run runs a command of this machine, bounded in time; the error carries its output.
func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// bridgeUp creates the bridge with HostIP.
func bridgeUp(ctx context.Context) error {
	for _, args := range [][]string{
		{"link", "add", Bridge, "type", "bridge"},
		{"addr", "add", HostIP + "/24", "dev", Bridge},
		{"link", "set", Bridge, "up"},
	} {
		if _, err := run(ctx, "ip", args...); err != nil {
			return fmt.Errorf("bridge: %w", err)
		}
	}
	return nil
}

// netnsUp creates node i's namespace, its veth on the bridge, its addresses and its routes to
// the other nodes' pod subnets (n nodes in all).
func netnsUp(ctx context.Context, name string, i, n int) error {
	ns := netnsName(name)
	cmds := [][]string{
		{"netns", "add", ns},
		{"link", "add", vethName(i), "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"link", "set", vethName(i), "master", Bridge, "up"},
		{"-n", ns, "addr", "add", NodeIP(i) + "/24", "dev", "eth0"},
		{"-n", ns, "link", "set", "lo", "up"},
		{"-n", ns, "link", "set", "eth0", "up"},
		// A node has a default route, as on a real network (a Service's cluster IP is routed
		// before kube-proxy's DNAT rewrites it); this machine forwards nothing (ip_forward stays
		// off), so nothing leaves it.
		{"-n", ns, "route", "add", "default", "via", HostIP},
	}
	for j := 1; j <= n; j++ {
		if j != i {
			cmds = append(cmds, []string{"-n", ns, "route", "add", PodCIDR(j), "via", NodeIP(j)})
		}
	}
	for _, args := range cmds {
		if _, err := run(ctx, "ip", args...); err != nil {
			return fmt.Errorf("node %s network: %w", name, err)
		}
	}
	// The node forwards between its eth0 and its pods (a per-namespace setting).
	if _, err := run(ctx, "nsenter", "--net=/run/netns/"+ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"); err != nil {
		return fmt.Errorf("node %s forwarding: %w", name, err)
	}
	return nil
}

// networkDown deletes every namespace and link named with Prefix; missing ones are fine.
func networkDown(ctx context.Context) []error {
	var errs []error
	out, _ := run(ctx, "ip", "netns", "list")
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], Prefix+"-") {
			if _, err := run(ctx, "ip", "netns", "del", f[0]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	out, _ = run(ctx, "ip", "-o", "link", "show")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		link, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
		if strings.HasPrefix(link, Prefix) {
			if _, err := run(ctx, "ip", "link", "del", link); err != nil && !strings.Contains(err.Error(), "Cannot find device") {
				errs = append(errs, err)
			}
		}
	}
	return errs
}

// netnsInode returns the inode of a node namespace's file, to find the processes inside it.
func netnsInode(ns string) (uint64, bool) {
	var st statT
	if err := stat("/run/netns/"+ns, &st); err != nil {
		return 0, false
	}
	return st.Ino, true
}

// nodeNamespaces lists the node namespaces that exist now.
func nodeNamespaces() []string {
	entries, _ := os.ReadDir("/run/netns")
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), Prefix+"-") {
			out = append(out, e.Name())
		}
	}
	return out
}
