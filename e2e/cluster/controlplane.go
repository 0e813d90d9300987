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
)

// APIServerPort is where kube-apiserver listens on the control-plane node's IP.
const APIServerPort = 6443

// startControlPlane starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler in
// the control-plane node's network namespace, with kubeadm's ports: etcd's client on the node's
// 127.0.0.1:2379 and its metrics on 127.0.0.1:2381, kube-controller-manager on 127.0.0.1:10257,
// kube-scheduler on 127.0.0.1:10259, kube-apiserver on NodeIP:6443.
func (c *Cluster) startControlPlane(ctx context.Context) error {
	cp := c.Nodes[0]
	in := func(args ...string) []string {
		return append([]string{"nsenter", "--net=/run/netns/" + cp.netns, "--"}, args...)
	}
	bin := func(name string) string { return filepath.Join(c.o.Bin, name) }
	p := c.pki
	etcd, err := c.start("etcd", in(bin("etcd"), "--name", "e2e", "--data-dir", filepath.Join(c.dir, "etcd"),
		"--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
		"--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
		"--initial-cluster", "e2e=http://127.0.0.1:2380", "--listen-metrics-urls", "http://127.0.0.1:2381",
		"--unsafe-no-fsync", "--log-level", "warn")...)
	if err != nil {
		return err
	}
	api, err := c.start("kube-apiserver", in(bin("kube-apiserver"),
		"--etcd-servers", "http://127.0.0.1:2379",
		"--bind-address", cp.IP, "--advertise-address", cp.IP, "--secure-port", fmt.Sprint(APIServerPort),
		"--tls-cert-file", p.path("apiserver", "crt"), "--tls-private-key-file", p.path("apiserver", "key"),
		"--client-ca-file", p.path("ca", "crt"),
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", filepath.Join(p.dir, "sa.pub"), "--service-account-signing-key-file", filepath.Join(p.dir, "sa.key"),
		"--service-cluster-ip-range", ServiceCIDR,
		"--authorization-mode", "Node,RBAC", "--enable-admission-plugins", "NodeRestriction",
		"--allow-privileged=true", "--enable-aggregator-routing=true",
		"--kubelet-client-certificate", p.path("apiserver-kubelet-client", "crt"), "--kubelet-client-key", p.path("apiserver-kubelet-client", "key"),
		"--kubelet-preferred-address-types", "InternalIP",
		"--cert-dir", filepath.Join(c.dir, "apiserver"))...)
	if err != nil {
		return err
	}
	_ = etcd
	if err := api.waitFor(ctx, "kube-apiserver /readyz", 2*time.Minute, c.apiReady); err != nil {
		return err
	}
	if err := p.kubeconfig(filepath.Join(c.dir, "kube-controller-manager.kubeconfig"), "kube-controller-manager", c.APIServer); err != nil {
		return err
	}
	if err := p.kubeconfig(filepath.Join(c.dir, "kube-scheduler.kubeconfig"), "kube-scheduler", c.APIServer); err != nil {
		return err
	}
	kcmConfig := filepath.Join(c.dir, "kube-controller-manager.kubeconfig")
	kcm, err := c.start("kube-controller-manager", in(bin("kube-controller-manager"),
		"--kubeconfig", kcmConfig, "--authentication-kubeconfig", kcmConfig, "--authorization-kubeconfig", kcmConfig,
		"--bind-address", "127.0.0.1", "--secure-port", "10257", "--leader-elect=false",
		"--use-service-account-credentials=true", "--service-account-private-key-file", filepath.Join(p.dir, "sa.key"),
		"--root-ca-file", p.path("ca", "crt"), "--cluster-signing-cert-file", p.path("ca", "crt"), "--cluster-signing-key-file", p.path("ca", "key"),
		"--controllers", "*", "--cert-dir", filepath.Join(c.dir, "kube-controller-manager"))...)
	if err != nil {
		return err
	}
	schedConfig := filepath.Join(c.dir, "kube-scheduler.yaml")
	text := fmt.Sprintf("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nclientConnection: {kubeconfig: %q}\nleaderElection: {leaderElect: false}\n",
		filepath.Join(c.dir, "kube-scheduler.kubeconfig"))
	if err := os.WriteFile(schedConfig, []byte(text), 0o600); err != nil {
		return fmt.Errorf("kube-scheduler config: %w", err)
	}
	schedKubeconfig := filepath.Join(c.dir, "kube-scheduler.kubeconfig")
	sched, err := c.start("kube-scheduler", in(bin("kube-scheduler"), "--config", schedConfig,
		"--authentication-kubeconfig", schedKubeconfig, "--authorization-kubeconfig", schedKubeconfig,
		"--bind-address", "127.0.0.1", "--secure-port", "10259", "--cert-dir", filepath.Join(c.dir, "kube-scheduler"))...)
	if err != nil {
		return err
	}
	for _, w := range []struct {
		p    *process
		port int
	}{{kcm, 10257}, {sched, 10259}} {
		url := fmt.Sprintf("https://127.0.0.1:%d/healthz", w.port)
		if err := w.p.waitFor(ctx, w.p.name+" /healthz", time.Minute, func(ctx context.Context) error {
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
