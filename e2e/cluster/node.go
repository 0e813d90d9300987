//go:build linux

package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Node is one node of the cluster: a network namespace with its own containerd and kubelet,
// both in one private mount namespace.
type Node struct {
	// Name is the Node's name; IP its InternalIP (its eth0 on the bridge).
	Name, IP string
	// ControlPlane is set on the node that runs the control plane (tainted NoSchedule).
	ControlPlane bool

	index               int
	netns, dir          string
	containerd, kubelet *process
	c                   *Cluster
}

// Socket is the node's containerd socket.
func (n *Node) Socket() string { return filepath.Join(n.dir, "containerd", "containerd.sock") }

// Run runs a command of this machine inside the node's network namespace (as a hostNetwork pod
// sees the network: the node's own 127.0.0.1).
func (n *Node) Run(ctx context.Context, args ...string) (string, error) {
	return run(ctx, "nsenter", append([]string{"--net=/run/netns/" + n.netns, "--"}, args...)...)
}

// Ctr runs ctr against the node's containerd, in the k8s.io namespace the kubelet uses.
func (n *Node) Ctr(ctx context.Context, args ...string) (string, error) {
	return run(ctx, "ctr", append([]string{"--address", n.Socket(), "-n", "k8s.io"}, args...)...)
}

// cgroupParent is the node's cgroupRoot (kubelet) under every hierarchy.
func (n *Node) cgroupParent() string { return "/" + Prefix + "/" + n.Name }

// hostMountpoints are paths kubelet and containerd use whatever their root directories say; each
// node gets its own directory bind-mounted over them inside its mount namespace.
var hostMountpoints = map[string]string{
	"/var/lib/kubelet":    "kubelet",
	"/var/log/containers": "container-logs",
	"/run/containerd":     "run-containerd",
	"/var/lib/cni":        "cni-cache", // the CNI library's result cache
	"/run/netns":          "pod-netns", // containerd's pod network namespaces
}

// sysctls are the values the kubelet insists on; they are files bind-mounted over /proc/sys inside
// the node's mount namespace, so that the machine's own settings never change.
var sysctls = map[string]string{"vm/overcommit_memory": "1", "kernel/panic": "10", "kernel/panic_on_oops": "1"}

// start writes the node's configuration and starts containerd, imports the images, then starts
// the kubelet.
func (n *Node) start(ctx context.Context, images []string) error {
	for _, d := range []string{"containerd", "cni", "kubelet/pki", "pod-logs", "container-logs", "run-containerd", "runc", "sysctl", "manifests", "cni-ipam", "cni-cache", "pod-netns"} {
		if err := os.MkdirAll(filepath.Join(n.dir, d), 0o755); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	if err := n.cgroups(); err != nil {
		return err
	}
	files := map[string]string{
		"containerd.toml": n.containerdConfig(), "cni/10-e2e.conflist": n.cniConfig(),
		"kubelet.yaml": n.kubeletConfig(),
	}
	for key, value := range sysctls {
		files["sysctl/"+strings.ReplaceAll(key, "/", ".")] = value + "\n"
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(n.dir, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
	}
	if err := n.c.pki.kubeconfig(filepath.Join(n.dir, "kubelet.kubeconfig"), "node-"+n.Name, n.c.APIServer); err != nil {
		return err
	}
	script := []string{"set -e"}
	for key := range sysctls {
		script = append(script, fmt.Sprintf("mount --bind %s /proc/sys/%s", filepath.Join(n.dir, "sysctl", strings.ReplaceAll(key, "/", ".")), key))
	}
	for host, own := range hostMountpoints {
		script = append(script, fmt.Sprintf("mount --bind %s %s", filepath.Join(n.dir, own), host))
	}
	script = append(script, "exec containerd --config "+filepath.Join(n.dir, "containerd.toml"))
	var err error
	n.containerd, err = n.c.start("containerd-"+n.Name, "unshare", "--mount", "--propagation", "private",
		"nsenter", "--net=/run/netns/"+n.netns, "--", "sh", "-c", strings.Join(script, "\n"))
	if err != nil {
		return err
	}
	if err := n.containerd.waitFor(ctx, "containerd of "+n.Name, 30*time.Second, func(ctx context.Context) error {
		_, err := run(ctx, "ctr", "--address", n.Socket(), "version")
		return err
	}); err != nil {
		return err
	}
	start := time.Now()
	for _, img := range images {
		if _, err := n.Ctr(ctx, "images", "import", img); err != nil {
			return fmt.Errorf("node %s: import %s: %w", n.Name, filepath.Base(img), err)
		}
	}
	fmt.Fprintf(n.c.o.Out, "cluster: node %s: containerd up, %d images imported in %.1fs\n", n.Name, len(images), time.Since(start).Seconds())
	return n.startKubelet()
}

// startKubelet starts the kubelet in containerd's mount and network namespaces.
func (n *Node) startKubelet() error {
	var err error
	n.kubelet, err = n.c.start("kubelet-"+n.Name, "nsenter", fmt.Sprintf("--target=%d", n.containerd.Pid()), "--mount", "--net", "--",
		filepath.Join(n.c.o.Bin, "kubelet"), "--config", filepath.Join(n.dir, "kubelet.yaml"),
		"--kubeconfig", filepath.Join(n.dir, "kubelet.kubeconfig"), "--root-dir", filepath.Join(n.dir, "kubelet"),
		"--cert-dir", filepath.Join(n.dir, "kubelet", "pki"),
		"--node-ip", n.IP, "--hostname-override", n.Name, "--v=1")
	return err
}

// StopKubelet stops the node's kubelet (its pods keep running, as on a real node).
func (n *Node) StopKubelet() { n.kubelet.stop() }

// StartKubelet starts the node's kubelet again after StopKubelet.
func (n *Node) StartKubelet() error { return n.startKubelet() }

// cgroups creates the node's cgroupRoot under every v1 hierarchy (the kubelet requires it).
func (n *Node) cgroups() error {
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, h := range hierarchies {
		if st, err := os.Stat(filepath.Join(h, "cgroup.procs")); err != nil || st.IsDir() {
			continue // not a mounted hierarchy
		}
		for _, d := range []string{filepath.Join(h, Prefix), filepath.Join(h, n.cgroupParent())} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("node %s: cgroup: %w", n.Name, err)
			}
			if filepath.Base(h) == "cpuset" { // a cpuset needs its cpus and mems before use
				for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
					v, err := os.ReadFile(filepath.Join(filepath.Dir(d), f))
					if err == nil {
						err = os.WriteFile(filepath.Join(d, f), v, 0o644)
					}
					if err != nil {
						return fmt.Errorf("node %s: cgroup: %w", n.Name, err)
					}
				}
			}
		}
	}
	return nil
}

func (n *Node) containerdConfig() string {
	return fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = %[3]q
[ttrpc]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  # CAP_SYS_RESOURCE may be withheld: nobody can lower oom_score_adj, which the kubelet asks for.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = %[6]q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[7]q
    conf_dir = %[8]q
`, filepath.Join(n.dir, "containerd", "root"), filepath.Join(n.dir, "containerd", "state"), n.Socket(),
		filepath.Join(n.dir, "containerd", "opt"), pauseRef, filepath.Join(n.dir, "runc"), CNIBinDir, filepath.Join(n.dir, "cni"))
}

// CNIBinDir is where Debian's containernetworking-plugins package puts the plugins.
const CNIBinDir = "/usr/lib/cni"

func (n *Node) cniConfig() string {
	return fmt.Sprintf(`{"cniVersion": "0.4.0", "name": %q, "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": %q, "ranges": [[{"subnet": %q}]], "routes": [{"dst": "0.0.0.0/0"}]}}]}
`, netnsName(n.Name), filepath.Join(n.dir, "cni-ipam"), PodCIDR(n.index))
}

func (n *Node) kubeletConfig() string {
	taints := ""
	if n.ControlPlane {
		taints = "registerWithTaints: [{key: node-role.kubernetes.io/control-plane, effect: NoSchedule}]\n"
	}
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: %s
containerRuntimeEndpoint: unix://%s
staticPodPath: %s
address: %s
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
podLogsDir: %s
volumePluginDir: %s
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: %s}
authorization: {mode: AlwaysAllow}
failSwapOn: false
oomScoreAdj: 0
protectKernelDefaults: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 95
evictionHard: {memory.available: 100Mi, nodefs.available: 1%%, imagefs.available: 1%%, nodefs.inodesFree: 1%%}
rotateCertificates: false
serverTLSBootstrap: false
resolvConf: /etc/resolv.conf
syncFrequency: 10s
fileCheckFrequency: 5s
nodeStatusUpdateFrequency: 5s
%s`, n.cgroupParent(), n.Socket(), filepath.Join(n.dir, "manifests"), n.IP, filepath.Join(n.dir, "pod-logs"),
		filepath.Join(n.dir, "volume-plugins"), n.c.pki.path("ca", "crt"), taints)
}
