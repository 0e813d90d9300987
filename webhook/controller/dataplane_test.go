package controller_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// nodeIPs are the InternalIPs of testNodes: loopback addresses of this package only, where the
// played kubelet runs each node's proxy (status.hostIP is what the pod's NODE_IP comes from).
var nodeIPs = map[string]string{"control-plane-1": "127.0.14.1", "worker-1": "127.0.14.2", "worker-2": "127.0.14.3"}

// haproxyPath is the distribution's haproxy, "" when it is not installed.
var haproxyPath = func() string {
	for _, p := range []string{"haproxy", "/usr/sbin/haproxy"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	return ""
}()

// proxies runs a real haproxy for every pod of the namespaces a test registered: the played
// kubelet starts it, with the haproxy.cfg the ConfigMap holds at pod start and NODE_IP the
// node's IP, before it reports the pod Ready, and stops it when the pod is deleted. A restart
// is the only way a new config reaches it, as with the real container.
var proxies = &dataPlane{namespaces: map[string]bool{}, running: map[string]*proxyProcess{}}

type dataPlane struct {
	mu         sync.Mutex
	namespaces map[string]bool
	running    map[string]*proxyProcess // by pod UID
	dir        string
}

// proxyProcess is one pod's haproxy.
type proxyProcess struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
}

// serve makes the played kubelet run haproxy for the pods of ns.
func (d *dataPlane) serve(ns string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.namespaces[ns] = true
}

// start runs the pod's haproxy and waits until its first frontend listens; false when the
// pod's namespace is not served.
func (d *dataPlane) start(ctx context.Context, pod *corev1.Pod) (bool, error) {
	d.mu.Lock()
	served := d.namespaces[pod.Namespace]
	_, running := d.running[string(pod.UID)]
	d.mu.Unlock()
	if !served || running {
		return served, nil
	}
	vol := ""
	for _, v := range pod.Spec.Volumes {
		if v.Name == names.VolumeName && v.ConfigMap != nil {
			vol = v.ConfigMap.Name
		}
	}
	cm, err := cs.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, vol, metav1.GetOptions{})
	if err != nil {
		return true, fmt.Errorf("pod %s: config volume: %w", pod.Name, err)
	}
	if got, want := pod.Annotations[names.ConfigHashAnnotation], inject.ConfigHash(cm); got != want {
		return true, fmt.Errorf("pod %s: config hash %q but the ConfigMap hashes to %q now", pod.Name, got, want)
	}
	dir := filepath.Join(d.dir, string(pod.UID))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return true, err
	}
	cfgFile := filepath.Join(dir, names.ConfigKey)
	if err := os.WriteFile(cfgFile, []byte(cm.Data[names.ConfigKey]), 0o600); err != nil {
		return true, err
	}
	ip := nodeIPs[pod.Spec.NodeName]
	p := &proxyProcess{cmd: exec.Command(haproxyPath, "-db", "-f", cfgFile), out: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd.Env = []string{names.NodeIPEnv + "=" + ip}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{}
	childAttr(p.cmd.SysProcAttr)
	if err := p.cmd.Start(); err != nil {
		return true, fmt.Errorf("start haproxy: %w", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	d.mu.Lock()
	d.running[string(pod.UID)] = p
	d.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for !listening(ip, 10249) {
		if time.Now().After(deadline) {
			return true, fmt.Errorf("pod %s: haproxy does not listen on %s:10249", pod.Name, ip)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-p.done: // another process holds the port: this one failed to bind
		return true, fmt.Errorf("pod %s: haproxy exited: %s", pod.Name, p.out.String())
	case <-time.After(100 * time.Millisecond):
	}
	return true, nil
}

// stop stops the haproxy of a pod, if any, and waits for it.
func (d *dataPlane) stop(uid string) {
	d.mu.Lock()
	p := d.running[uid]
	delete(d.running, uid)
	d.mu.Unlock()
	if p != nil {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
	}
}

// stopGone stops the haproxy of every pod not in present (deleted without a grace period).
func (d *dataPlane) stopGone(present map[string]bool) {
	d.mu.Lock()
	var gone []string
	for uid := range d.running {
		if !present[uid] {
			gone = append(gone, uid)
		}
	}
	d.mu.Unlock()
	for _, uid := range gone {
		d.stop(uid)
	}
}

// stopAll stops every haproxy.
func (d *dataPlane) stopAll() {
	d.mu.Lock()
	uids := make([]string, 0, len(d.running))
	for uid := range d.running {
		uids = append(uids, uid)
	}
	d.mu.Unlock()
	for _, uid := range uids {
		d.stop(uid)
	}
}

// listening reports whether ip:port accepts a TCP connection.
func listening(ip string, port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, fmt.Sprint(port)), 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}
