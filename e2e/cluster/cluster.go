//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options configure Up.
type Options struct {
	// Workers is the number of worker nodes beside the control-plane node.
	Workers int
	// Bin is the directory with etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
	// kubectl, kubelet and kube-proxy (hack/build-control-plane.sh fills bin/).
	Bin string
	// Dir is the cluster's state directory; a fixed one (default: metrics-proxy-cluster in the
	// temporary directory) so that a run finds a killed run's state. It is removed by Down.
	Dir string
	// Images are image archives (e2e/image) to load on every node beside the cluster's own.
	Images []string
	// Out receives progress lines; io.Discard when nil.
	Out io.Writer
}

// Cluster is a running cluster of real nodes.
type Cluster struct {
	// Nodes are the control-plane node, then the workers.
	Nodes []*Node
	// APIServer is kube-apiserver's URL; Kubeconfig an admin kubeconfig file; KubectlPath kubectl.
	APIServer, Kubeconfig, KubectlPath string
	// Config and Client reach the API server as cluster admin.
	Config *rest.Config
	Client kubernetes.Interface
	// Timings are how long each phase of Up took, in order.
	Timings []Timing

	o      Options
	dir    string
	pki    *pki
	mu     sync.Mutex // guards procs
	procs  []*process
	unlock func()
}

// Timing is a phase of Up and how long it took.
type Timing struct {
	Phase string
	Took  time.Duration
}

// ControlPlaneNode and WorkerNode name the nodes: the control-plane node, then worker-1, ...
const ControlPlaneNode = "control-plane-1"

// WorkerNode is the name of worker i (1-based).
func WorkerNode(i int) string { return fmt.Sprintf("worker-%d", i) }

// Requirements says what this machine lacks to run the cluster (root, tools, binaries), or "".
func Requirements(bin string) string {
	var missing []string
	if os.Geteuid() != 0 {
		missing = append(missing, "root (network and mount namespaces, cgroups)")
	}
	for _, tool := range []string{"containerd", "runc", "ctr", "nsenter", "unshare", "ip", "mount", "ldd", "iptables", "conntrack", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat(filepath.Join(CNIBinDir, "bridge")); err != nil {
		missing = append(missing, "the CNI plugins in "+CNIBinDir+" (containernetworking-plugins)")
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl", "kubelet", "kube-proxy"} {
		if _, err := os.Stat(filepath.Join(bin, b)); err != nil {
			missing = append(missing, filepath.Join(bin, b)+" (make control-plane)")
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "missing: " + strings.Join(missing, ", ") + "; .ci/run installs containerd, runc, containernetworking-plugins, iptables and conntrack with apt-get"
}

// Up brings up the cluster: it takes the machine's cluster lock, removes what a killed run left,
// then creates the network, the certificates, the control plane on the control-plane node, and
// every node's containerd and kubelet, and returns once every node is Ready. On error everything
// is removed again.
func Up(ctx context.Context, o Options) (_ *Cluster, err error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Dir == "" {
		o.Dir = filepath.Join(os.TempDir(), "metrics-proxy-cluster")
	}
	if why := Requirements(o.Bin); why != "" {
		return nil, errors.New(why)
	}
	c := &Cluster{o: o, dir: o.Dir, KubectlPath: filepath.Join(o.Bin, "kubectl")}
	phase := time.Now()
	done := func(name string) {
		c.Timings = append(c.Timings, Timing{name, time.Since(phase)})
		fmt.Fprintf(o.Out, "cluster: %s (%.1fs)\n", name, time.Since(phase).Seconds())
		phase = time.Now()
	}
	if c.unlock, err = lock(ctx); err != nil {
		return nil, err
	}
	if found, errs := sweep(ctx, c.dir); len(found) > 0 || len(errs) > 0 {
		fmt.Fprintf(o.Out, "cluster: removed what an earlier run left: %s\n", strings.Join(found, ", "))
		if len(errs) > 0 {
			c.unlock()
			return nil, fmt.Errorf("leftovers of an earlier run: %w", errors.Join(errs...))
		}
	}
	defer func() {
		if err != nil {
			c.Down()
		}
	}()
	for _, d := range []string{"logs", "pids", "images"} {
		if err := os.MkdirAll(filepath.Join(c.dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("cluster directory: %w", err)
		}
	}
	c.Nodes = append(c.Nodes, &Node{Name: ControlPlaneNode, ControlPlane: true})
	for i := 1; i <= o.Workers; i++ {
		c.Nodes = append(c.Nodes, &Node{Name: WorkerNode(i)})
	}
	for i, n := range c.Nodes {
		n.index, n.IP, n.netns, n.c = i+1, NodeIP(i+1), netnsName(n.Name), c
		n.dir = filepath.Join(c.dir, "nodes", n.Name)
	}
	c.APIServer = fmt.Sprintf("https://%s:%d", c.Nodes[0].IP, APIServerPort)
	if err := c.mountpoints(); err != nil {
		return nil, err
	}
	if err := c.certificates(); err != nil {
		return nil, err
	}
	if err := bridgeUp(ctx); err != nil {
		return nil, err
	}
	for _, n := range c.Nodes {
		if err := netnsUp(ctx, n.Name, n.index, len(c.Nodes)); err != nil {
			return nil, err
		}
	}
	done("network and certificates")
	images, err := c.buildImages(ctx)
	if err != nil {
		return nil, err
	}
	controlPlane, err := c.controlPlaneFiles()
	if err != nil {
		return nil, err
	}
	done("images")
	// Every node's containerd and kubelet start at once; the control-plane node's kubelet runs the
	// control plane from its static pods, as kubeadm's does, and the workers' kubelets register
	// once the API server answers.
	errs := make([]error, len(c.Nodes))
	var wg sync.WaitGroup
	for i, n := range c.Nodes {
		load := append(append([]string{}, images...), o.Images...)
		if n.ControlPlane {
			load = append(load, controlPlane...)
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = n.start(ctx, load) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := c.startControlPlane(ctx); err != nil {
		return nil, err
	}
	if err := c.connect(); err != nil {
		return nil, err
	}
	done("control plane (static pods)")
	for _, n := range c.Nodes {
		if err := c.waitReady(ctx, n); err != nil {
			return nil, err
		}
	}
	done("nodes Ready")
	if err := c.startKubeProxy(ctx); err != nil {
		return nil, err
	}
	done("kube-proxy on every node")
	return c, nil
}

// start starts a process of the cluster and remembers it for Down.
func (c *Cluster) start(name string, args ...string) (*process, error) {
	p, err := start(c.dir, name, args...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.procs = append(c.procs, p)
	return p, nil
}

// mountpoints creates the empty directories the nodes mount over and records the ones it made.
func (c *Cluster) mountpoints() error {
	var made []string
	for d := range hostMountpoints {
		if _, err := os.Stat(d); err == nil {
			continue
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("mountpoint %s: %w", d, err)
		}
		made = append(made, d)
	}
	return os.WriteFile(filepath.Join(c.dir, "mountpoints"), []byte(strings.Join(made, "\n")+"\n"), 0o600)
}

// certificates issues every certificate and the admin kubeconfig.
func (c *Cluster) certificates() (err error) {
	if c.pki, err = newPKI(filepath.Join(c.dir, "pki")); err != nil {
		return err
	}
	p := c.pki
	steps := []func() error{
		func() error {
			return p.server("apiserver", []string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"},
				c.Nodes[0].IP, "127.0.0.1", KubernetesServiceIP)
		},
		func() error { return p.client("admin", "metrics-proxy-e2e-admin", "system:masters") },
		func() error {
			return p.client("apiserver-kubelet-client", "kube-apiserver-kubelet-client", "system:masters")
		},
		func() error { return p.client("kube-controller-manager", "system:kube-controller-manager") },
		func() error { return p.client("kube-scheduler", "system:kube-scheduler") },
	}
	for _, n := range c.Nodes {
		steps = append(steps, func() error { return p.client("node-"+n.Name, "system:node:"+n.Name, "system:nodes") })
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	c.Kubeconfig = filepath.Join(c.dir, "admin.kubeconfig")
	return p.kubeconfig(c.Kubeconfig, "admin", c.APIServer)
}

// connect makes the admin clients.
func (c *Cluster) connect() (err error) {
	if c.Config, err = clientcmd.BuildConfigFromFlags("", c.Kubeconfig); err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

// waitReady waits until node n is registered and Ready, then labels the control-plane node as
// kubeadm does.
func (c *Cluster) waitReady(ctx context.Context, n *Node) error {
	if err := n.kubelet.waitFor(ctx, "node "+n.Name+" Ready", 2*time.Minute, func(ctx context.Context) error {
		node, err := c.Client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, cond := range node.Status.Conditions {
			if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
				for _, t := range node.Spec.Taints {
					if t.Key == "node.kubernetes.io/not-ready" {
						return fmt.Errorf("still tainted %s", t.Key)
					}
				}
				return nil
			}
		}
		return fmt.Errorf("not Ready")
	}); err != nil {
		return err
	}
	if !n.ControlPlane {
		return nil
	}
	patch := `{"metadata":{"labels":{"node-role.kubernetes.io/control-plane":"","node.kubernetes.io/exclude-from-external-load-balancers":""}}}`
	if _, err := c.Client.CoreV1().Nodes().Patch(ctx, n.Name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("label %s: %w", n.Name, err)
	}
	return nil
}

// Down stops everything Up started and removes what it created: processes, containers, cgroups,
// namespaces, links and the state directory. It is safe to call more than once.
func (c *Cluster) Down() error {
	if c.unlock == nil {
		return nil
	}
	start := time.Now()
	for _, n := range c.Nodes { // the kubelets first, so that they restart nothing
		if n.kubelet != nil {
			n.kubelet.stop()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, errs := sweep(ctx, c.dir)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		p.kill()
	}
	c.unlock()
	c.unlock = nil
	fmt.Fprintf(c.o.Out, "cluster: down (%.1fs)\n", time.Since(start).Seconds())
	return errors.Join(errs...)
}

// Logs returns the end of every process's output, to diagnose a failure.
func (c *Cluster) Logs() string {
	var b strings.Builder
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		fmt.Fprintf(&b, "==> %s\n%s\n", p.name, p.tail.String())
	}
	return b.String()
}
