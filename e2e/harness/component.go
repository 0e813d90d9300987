package harness

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Component is a control-plane binary from the assets (kube-controller-manager,
// kube-scheduler) running against the harness's API server.
type Component struct {
	name string
	cmd  *exec.Cmd
	out  *tail
	done chan struct{}
	once sync.Once
}

// StartComponent runs the named binary of assets with cp's admin kubeconfig, no HTTPS serving
// (--secure-port=0: nothing to collide with the seed scenario's component ports) and args. It
// is killed with this process (Linux); Stop ends it.
func (cp *ControlPlane) StartComponent(assets, name string, args ...string) (*Component, error) {
	c := &Component{name: name, out: &tail{}, done: make(chan struct{})}
	all := append([]string{"--kubeconfig=" + cp.Kubeconfig, "--secure-port=0"}, args...)
	c.cmd = exec.Command(filepath.Join(assets, name), all...)
	c.cmd.Dir = "/"
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{}
	childAttr(c.cmd.SysProcAttr)
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	return c, nil
}

// Running reports whether the component has not exited.
func (c *Component) Running() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// Output is the end of what the component wrote.
func (c *Component) Output() string { return c.out.String() }

// Stop sends SIGTERM, then SIGKILL after 5 s, and waits. Safe to call more than once.
func (c *Component) Stop() {
	c.once.Do(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
			return
		case <-time.After(5 * time.Second):
		}
		_ = c.cmd.Process.Kill()
		<-c.done
	})
}

// tail keeps the last 16 KiB written to it.
type tail struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if extra := t.b.Len() - 16<<10; extra > 0 {
		t.b.Next(extra)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimRight(t.b.String(), "\n")
}
