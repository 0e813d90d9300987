package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/bench"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// scrapeRig is the control-plane node of the scrape part, inside the network namespace the
// part runs in: etcd (metrics on 127.0.0.1:2381), kube-apiserver, kube-controller-manager
// (127.0.0.1:10257), kube-scheduler (127.0.0.1:10259), kube-proxy when it starts
// (127.0.0.1:10249), and one real haproxy per proxy variant, each on its own node IP.
type scrapeRig struct {
	dir   string
	env   *envtest.Environment
	procs []*rigProc
	// up are the components serving /metrics; skipped the others, with why.
	up      []components.Component
	skipped []string
	// token is a TokenRequest token of a service account bound to metrics-reader.
	token string
	// proxies are the haproxy processes by variant name.
	proxies map[string]*rigProc
	ips     map[string]string
}

// rigProc is a process of the rig; it dies with the benchmark (parent-death signal).
type rigProc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func (r *scrapeRig) start(name, bin string, env []string, args ...string) (*rigProc, error) {
	log := filepath.Join(r.dir, name+".log")
	f, err := os.Create(log)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	p := &rigProc{name: name, cmd: exec.Command(bin, args...), done: make(chan struct{}), log: log}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = childAttrs()
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = p.cmd.Wait(); f.Close(); close(p.done) }()
	r.procs = append(r.procs, p)
	return p, nil
}

func (p *rigProc) pid() int { return p.cmd.Process.Pid }

// tail is the end of the process's log, for an error.
func (p *rigProc) tail() string {
	data, _ := os.ReadFile(p.log)
	if len(data) > 1500 {
		data = data[len(data)-1500:]
	}
	return string(data)
}

func (p *rigProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// stop stops everything the rig started, the last started first.
func (r *scrapeRig) stop() {
	for i := len(r.procs) - 1; i >= 0; i-- {
		r.procs[i].stop()
	}
	if r.env != nil {
		_ = r.env.Stop()
	}
	_ = os.RemoveAll(r.dir)
}

// netnsSetup brings up the loopback interface of the fresh network namespace with the proxy
// variants' node IPs on it.
func netnsSetup(ips []string) error {
	cmds := [][]string{{"link", "set", "lo", "up"}}
	for _, ip := range ips {
		cmds = append(cmds, []string{"addr", "add", ip + "/32", "dev", "lo"})
	}
	for _, args := range cmds {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %v: %w: %s", args, err, out)
		}
	}
	return nil
}

// startScrapeRig starts the control plane and the components; the proxies come with addProxy.
func startScrapeRig(ctx context.Context) (_ *scrapeRig, err error) {
	r := &scrapeRig{proxies: map[string]*rigProc{}, ips: map[string]string{}}
	if r.dir, err = os.MkdirTemp("", "metrics-proxy-bench-scrape-"); err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	defer func() {
		if err != nil {
			r.stop()
		}
	}()
	assets, err := harness.Assets()
	if err != nil {
		return r, err
	}
	etcd, _ := components.Lookup("etcd")
	r.env = &envtest.Environment{BinaryAssetsDirectory: assets}
	r.env.ControlPlane.Etcd = &envtest.Etcd{}
	r.env.ControlPlane.Etcd.Configure().Set("listen-metrics-urls", "http://"+etcd.Upstream())
	r.env.ControlPlane.GetAPIServer().Configure().Set("advertise-address", scrapeIPs[0])
	cfg, err := r.env.Start()
	if err != nil {
		return r, fmt.Errorf("start kube-apiserver and etcd: %w", err)
	}
	kubeconfig := filepath.Join(r.dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, r.env.KubeConfig, 0o600); err != nil {
		return r, fmt.Errorf("write kubeconfig: %w", err)
	}
	r.up = append(r.up, etcd)
	for _, c := range []struct {
		name string
		args []string
	}{
		// The controllers of a kubeadm control plane, but the token signer (envtest has no key
		// file for it), with the admin credentials and no leader election.
		{"kube-controller-manager", []string{"--controllers=*,-serviceaccount-token-controller", "--use-service-account-credentials=false", "--leader-elect=false"}},
		{"kube-scheduler", []string{"--leader-elect=false"}},
	} {
		comp, _ := components.Lookup(c.name)
		args := append([]string{"--kubeconfig=" + kubeconfig, "--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig, "--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(int(comp.Port)),
			"--cert-dir=" + filepath.Join(r.dir, c.name), "--authentication-skip-lookup=true"}, c.args...)
		p, err := r.start(c.name, filepath.Join(assets, c.name), nil, args...)
		if err != nil {
			return r, err
		}
		if err := waitGet(ctx, p, fmt.Sprintf("https://%s/healthz", comp.Upstream()), time.Minute); err != nil {
			return r, err
		}
		r.up = append(r.up, comp)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return r, fmt.Errorf("clientset: %w", err)
	}
	// kube-proxy waits for its Node before it serves anything.
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "bench-node"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: scrapeIPs[0]}}}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return r, fmt.Errorf("node: %w", err)
	}
	// kube-proxy as kubeadm runs it (iptables mode), in this namespace; conntrack left alone.
	kp, _ := components.Lookup("kube-proxy")
	p, err := r.start("kube-proxy", filepath.Join(assets, "kube-proxy"), nil, "--kubeconfig="+kubeconfig,
		"--proxy-mode=iptables", "--metrics-bind-address="+kp.Upstream(), "--healthz-bind-address=127.0.0.1:10256",
		"--hostname-override=bench-node", "--conntrack-max-per-core=0", "--conntrack-min=0",
		"--conntrack-tcp-timeout-established=0s", "--conntrack-tcp-timeout-close-wait=0s", "--cluster-cidr=198.19.96.0/19")
	if err == nil {
		err = waitGet(ctx, p, "http://"+kp.Upstream()+"/metrics", 30*time.Second)
	}
	if err != nil {
		if p != nil {
			p.stop()
		}
		r.skipped = append(r.skipped, "kube-proxy: "+firstLine(err.Error()))
	} else {
		r.up = append([]components.Component{kp}, r.up...)
	}
	if r.token, err = scraperToken(ctx, cs); err != nil {
		return r, err
	}
	return r, nil
}

// scraperToken creates what `render --scraper default/prometheus` binds (the metrics-reader
// ClusterRole) and returns a TokenRequest token of that service account.
func scraperToken(ctx context.Context, cs kubernetes.Interface) (string, error) {
	const ns, sa = "default", "prometheus"
	if _, err := cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: sa}}, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("service account: %w", err)
	}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader"},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("cluster role: %w", err)
	}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "metrics-reader-binding"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}}}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("cluster role binding: %w", err)
	}
	seconds := int64(3600)
	tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("token request: %w", err)
	}
	return tr.Status.Token, nil
}

// scrapeIPs are the node IPs of the proxy variants (RFC 2544 benchmark addresses), local to the
// namespace only.
var scrapeIPs = []string{"198.18.0.2", "198.18.0.3", "198.18.0.4", "198.18.0.5"}

// proxyConfig is the haproxy.cfg render writes for the control-plane proxy, with the variant's
// frontend TLS and maxconn, and the frontend certificate at certFile instead of names.CertFile
// (where the proxy-cert init container writes it in a pod).
func proxyConfig(v bench.ScrapeVariant, certFile string) (string, error) {
	var tlsList []components.Component
	for _, n := range v.TLS {
		c, ok := components.Lookup(n)
		if !ok {
			return "", fmt.Errorf("variant %s: unknown component %q", v.Name, n)
		}
		tlsList = append(tlsList, c)
	}
	cfg := inject.HAProxyConfigTLS(components.All(), tlsList)
	const seedMaxConn = "default-server maxconn 10\n"
	if !strings.Contains(cfg, seedMaxConn) {
		return "", fmt.Errorf("the generated config has no %q any more: update the scrape part", strings.TrimSpace(seedMaxConn))
	}
	cfg = strings.Replace(cfg, seedMaxConn, fmt.Sprintf("default-server maxconn %d\n", v.MaxConn), 1)
	return strings.ReplaceAll(cfg, names.CertFile, certFile), nil
}

// addProxy writes variant v's config and per-node certificate (as `metrics-proxy proxy-cert`
// does) and runs the real haproxy on it with NODE_IP set to ip, until its frontends listen.
func (r *scrapeRig) addProxy(ctx context.Context, v bench.ScrapeVariant, ip string) error {
	dir := filepath.Join(r.dir, "proxy-"+v.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("proxy %s: %w", v.Name, err)
	}
	cert, err := certs.NewNodeCert(net.ParseIP(ip), time.Now())
	if err != nil {
		return err
	}
	certFile := filepath.Join(dir, "frontend.pem")
	if err := cert.Write(certFile); err != nil {
		return err
	}
	cfg, err := proxyConfig(v, certFile)
	if err != nil {
		return err
	}
	cfgFile := filepath.Join(dir, names.ConfigKey)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("proxy %s: %w", v.Name, err)
	}
	haproxy, err := proxyBinary()
	if err != nil {
		return err
	}
	p, err := r.start("haproxy-"+v.Name, haproxy, []string{names.NodeIPEnv + "=" + ip}, "-db", "-f", cfgFile)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range components.All() {
		for {
			conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip, strconv.Itoa(int(c.Port))), time.Second)
			if err == nil {
				conn.Close()
				break
			}
			select {
			case <-p.done:
				return fmt.Errorf("haproxy %s exited: %s", v.Name, p.tail())
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("haproxy %s: %s:%d not listening after 10 s: %s", v.Name, ip, c.Port, p.tail())
			}
		}
	}
	r.proxies[v.Name], r.ips[v.Name] = p, ip
	return nil
}

// waitGet polls url until it answers 200, p exits or timeout passes.
func waitGet(ctx context.Context, p *rigProc, url string, timeout time.Duration) error {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // self-signed, loopback
	deadline := time.Now().Add(timeout)
	last := errors.New("no answer")
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %s", p.name, p.tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s: %s not ready after %s (last: %w): %s", p.name, url, timeout, last, p.tail())
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// proxyBinary is the haproxy the proxies run: bin/haproxy-3.0.* (`make haproxy`, the default
// image's branch), else the distribution's.
func proxyBinary() (string, error) {
	if built, _ := filepath.Glob(filepath.Join(harness.RepoRoot(), "bin", "haproxy-3.0.*")); len(built) > 0 {
		return built[len(built)-1], nil
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		return "", fmt.Errorf("haproxy not installed (make haproxy): %w", err)
	}
	return haproxy, nil
}
