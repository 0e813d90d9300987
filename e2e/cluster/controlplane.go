//go:build linux

package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/e2e/image"
)

// APIServerPort is where kube-apiserver listens on the control-plane node's IP.
const APIServerPort = 6443

// component is a control-plane component run as a static pod of the control-plane node.
type component struct {
	name, version string
	args          []string
	annotations   map[string]string
}

// ref is the component's image, named as kubeadm names it.
func (co component) ref() string { return "registry.k8s.io/" + co.name + ":" + co.version }

// components are etcd, kube-apiserver, kube-controller-manager and kube-scheduler with kubeadm's
// addresses: etcd's client on the node's 127.0.0.1:2379 and its metrics on 127.0.0.1:2381,
// kube-apiserver on NodeIP:6443, kube-controller-manager on 127.0.0.1:10257, kube-scheduler on
// 127.0.0.1:10259.
func (c *Cluster) components() []component {
	ip, p := c.Nodes[0].IP, c.pki
	kcm, sched := filepath.Join(c.dir, "kube-controller-manager.kubeconfig"), filepath.Join(c.dir, "kube-scheduler.kubeconfig")
	return []component{
		{name: "etcd", version: "3.6.16-0", annotations: map[string]string{"kubeadm.kubernetes.io/etcd.advertise-client-urls": "http://127.0.0.1:2379"}, args: []string{
			"--name=e2e", "--data-dir=" + filepath.Join(c.dir, "etcd"),
			"--listen-client-urls=http://127.0.0.1:2379", "--advertise-client-urls=http://127.0.0.1:2379",
			"--listen-peer-urls=http://127.0.0.1:2380", "--initial-advertise-peer-urls=http://127.0.0.1:2380",
			"--initial-cluster=e2e=http://127.0.0.1:2380", "--listen-metrics-urls=http://127.0.0.1:2381",
			"--unsafe-no-fsync", "--log-level=warn"}},
		{name: "kube-apiserver", version: "v1.37.2", annotations: map[string]string{"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": fmt.Sprintf("%s:%d", ip, APIServerPort)}, args: []string{
			"--etcd-servers=http://127.0.0.1:2379",
			"--bind-address=" + ip, "--advertise-address=" + ip, fmt.Sprintf("--secure-port=%d", APIServerPort),
			"--tls-cert-file=" + p.path("apiserver", "crt"), "--tls-private-key-file=" + p.path("apiserver", "key"),
			"--client-ca-file=" + p.path("ca", "crt"),
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + filepath.Join(p.dir, "sa.pub"), "--service-account-signing-key-file=" + filepath.Join(p.dir, "sa.key"),
			"--service-cluster-ip-range=" + ServiceCIDR,
			"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
			"--allow-privileged=true",
			"--kubelet-client-certificate=" + p.path("apiserver-kubelet-client", "crt"), "--kubelet-client-key=" + p.path("apiserver-kubelet-client", "key"),
			"--kubelet-preferred-address-types=InternalIP",
			"--cert-dir=" + filepath.Join(c.dir, "apiserver")}},
		{name: "kube-controller-manager", version: "v1.37.2", args: []string{
			"--kubeconfig=" + kcm, "--authentication-kubeconfig=" + kcm, "--authorization-kubeconfig=" + kcm,
			"--bind-address=127.0.0.1", "--secure-port=10257", "--leader-elect=false",
			"--use-service-account-credentials=true", "--service-account-private-key-file=" + filepath.Join(p.dir, "sa.key"),
			"--root-ca-file=" + p.path("ca", "crt"), "--cluster-signing-cert-file=" + p.path("ca", "crt"), "--cluster-signing-key-file=" + p.path("ca", "key"),
			"--controllers=*", "--cert-dir=" + filepath.Join(c.dir, "kube-controller-manager")}},
		{name: "kube-scheduler", version: "v1.37.2", args: []string{
			"--config=" + filepath.Join(c.dir, "kube-scheduler.yaml"),
			"--authentication-kubeconfig=" + sched, "--authorization-kubeconfig=" + sched,
			"--bind-address=127.0.0.1", "--secure-port=10259", "--cert-dir=" + filepath.Join(c.dir, "kube-scheduler")}},
	}
}

// controlPlaneFiles writes the components' kubeconfigs, configuration and images; it returns
// the image archives. The static pod manifests are written by writeStaticPods.
func (c *Cluster) controlPlaneFiles() ([]string, error) {
	p := c.pki
	for _, name := range []string{"kube-controller-manager", "kube-scheduler"} {
		if err := p.kubeconfig(filepath.Join(c.dir, name+".kubeconfig"), name, c.APIServer); err != nil {
			return nil, err
		}
	}
	text := fmt.Sprintf("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nclientConnection: {kubeconfig: %q}\nleaderElection: {leaderElect: false}\n",
		filepath.Join(c.dir, "kube-scheduler.kubeconfig"))
	if err := os.WriteFile(filepath.Join(c.dir, "kube-scheduler.yaml"), []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("kube-scheduler config: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(c.Nodes[0].dir, "manifests"), 0o755); err != nil {
		return nil, fmt.Errorf("static pods: %w", err)
	}
	var archives []string
	for _, co := range c.components() {
		archive, err := writeImage(filepath.Join(c.dir, "images"), co.name, image.Static(filepath.Join(c.o.Bin, co.name), co.name, co.ref()))
		if err != nil {
			return nil, err
		}
		archives = append(archives, archive)
	}
	return archives, nil
}

// writeStaticPods writes the static pod manifests of the named components into the
// control-plane node's manifest directory, where its kubelet picks them up.
func (c *Cluster) writeStaticPods(names ...string) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, co := range c.components() {
		if !want[co.name] {
			continue
		}
		data, err := yaml.Marshal(c.staticPod(co))
		if err != nil {
			return fmt.Errorf("static pod %s: %w", co.name, err)
		}
		if err := os.WriteFile(filepath.Join(c.Nodes[0].dir, "manifests", co.name+".yaml"), data, 0o600); err != nil {
			return fmt.Errorf("static pod %s: %w", co.name, err)
		}
	}
	return nil
}

// staticPod is the component's static pod, labelled as kubeadm labels it; the cluster's
// directory (certificates, kubeconfigs, etcd's data) is mounted at its own path.
func (c *Cluster) staticPod(co component) map[string]any {
	return map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{
			"name": co.name, "namespace": "kube-system",
			"labels":      map[string]string{"component": co.name, "tier": "control-plane"},
			"annotations": co.annotations,
		},
		"spec": map[string]any{
			"hostNetwork": true, "priorityClassName": "system-node-critical",
			"securityContext": map[string]any{"seccompProfile": map[string]string{"type": "RuntimeDefault"}},
			"containers": []map[string]any{{
				"name": co.name, "image": co.ref(), "imagePullPolicy": "IfNotPresent",
				"command":      append([]string{"/usr/local/bin/" + co.name}, co.args...),
				"volumeMounts": []map[string]any{{"name": "cluster", "mountPath": c.dir}},
			}},
			"volumes": []map[string]any{{"name": "cluster", "hostPath": map[string]string{"path": c.dir, "type": "Directory"}}},
		},
	}
}

// startControlPlane has the control-plane node's kubelet run etcd and kube-apiserver, then, once
// the API server is ready (kube-controller-manager and kube-scheduler exit when it is not, and
// the kubelet would back off restarting them), kube-controller-manager and kube-scheduler; it
// waits until both answer /healthz on the node's 127.0.0.1.
func (c *Cluster) startControlPlane(ctx context.Context) error {
	cp := c.Nodes[0]
	if err := c.writeStaticPods("etcd", "kube-apiserver"); err != nil {
		return err
	}
	if err := cp.kubelet.waitFor(ctx, "kube-apiserver /readyz (a static pod)", 2*time.Minute, c.apiReady); err != nil {
		return err
	}
	if err := c.writeStaticPods("kube-controller-manager", "kube-scheduler"); err != nil {
		return err
	}
	for _, port := range []int{10257, 10259} {
		url := fmt.Sprintf("https://127.0.0.1:%d/healthz", port)
		if err := cp.kubelet.waitFor(ctx, url+" on "+cp.Name, 2*time.Minute, func(ctx context.Context) error {
			_, err := cp.Run(ctx, "curl", "-fsk", "--max-time", "2", url)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// apiReady checks kube-apiserver's /readyz as the admin.
func (c *Cluster) apiReady(ctx context.Context) error {
	cert, err := tls.LoadX509KeyPair(c.pki.path("admin", "crt"), c.pki.path("admin", "key"))
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.pki.caCert)
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.APIServer+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("/readyz: %s", resp.Status)
	}
	return nil
}
