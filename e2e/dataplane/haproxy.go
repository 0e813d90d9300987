package dataplane

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/metrics-proxy/injector/e2e/testtool"
)

// DefaultNodeIP is the NODE_IP the proxy runs with unless Options say otherwise: a loopback
// address other than the upstreams' 127.0.0.1 (Linux routes all of 127.0.0.0/8 to lo).
const DefaultNodeIP = "127.0.0.2"

// DefaultReadyTimeout bounds how long StartHAProxy waits for the proxy to listen.
const DefaultReadyTimeout = 5 * time.Second

// Options configure Harness.StartHAProxy and Check.
type Options struct {
	// Binary is the haproxy to run (one of testtool.HAProxies, say); Binary(t) when empty.
	Binary string
	// NodeIP is the value of NODE_IP in haproxy's environment; DefaultNodeIP when empty.
	NodeIP string
	// Env adds "NAME=value" entries to haproxy's environment, which otherwise holds only PATH
	// and NODE_IP.
	Env []string
	// Dir is haproxy's working directory, where relative file names of the config (errorfile,
	// lua-load) resolve; the temporary directory that holds the config when empty.
	Dir string
	// Wait lists the addresses (host:port, at least one) that must accept connections before
	// StartHAProxy returns; before the start, none of them may accept connections yet.
	Wait []string
	// ReadyTimeout bounds the wait; DefaultReadyTimeout when zero.
	ReadyTimeout time.Duration
	// CertDir, when set, is a directory holding the frontend certificate (frontend.pem and
	// frontend.pem.key, certs.NodeCert.Write) that haproxy sees at names.CertDir: it then runs in
	// a private mount namespace (root only; see tls.go).
	CertDir string
}

// HAProxy is a running haproxy process, in the foreground (-db), stopped in t.Cleanup; see
// Harness.StartHAProxy.
type HAProxy struct {
	// ConfigPath is the file the config was written to.
	ConfigPath string
	cmd        *exec.Cmd
	out        *syncBuffer
	done       chan struct{}
	stopOnce   sync.Once
}

// Binary returns the path of haproxy: exec.LookPath, else the distribution's /usr/sbin/haproxy
// (sbin is often missing from a user's PATH). When there is none, testtool.Missing skips the test
// outside CI and fails it in CI.
func Binary(t testing.TB) string {
	t.Helper()
	if path, err := exec.LookPath("haproxy"); err == nil {
		return path
	}
	if path, err := exec.LookPath("/usr/sbin/haproxy"); err == nil {
		return path
	}
	return testtool.HAProxy(t)
}

// binary returns o.Binary, else Binary(t).
func (o Options) binary(t testing.TB) string {
	if o.Binary != "" {
		return o.Binary
	}
	return Binary(t)
}

// startHAProxy writes cfg to a temporary directory and runs the distribution's haproxy on it in
// the foreground, then waits until every address of opts.Wait accepts connections. It fails the
// test with haproxy's output when haproxy exits or does not listen in time.
func startHAProxy(t testing.TB, cfg string, opts Options) *HAProxy {
	t.Helper()
	bin := opts.binary(t)
	if opts.NodeIP == "" {
		opts.NodeIP = DefaultNodeIP
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if len(opts.Wait) == 0 {
		t.Fatal("haproxy: Options.Wait names no address to wait for")
	}
	for _, addr := range opts.Wait {
		if err := checkLoopback(addr); err != nil {
			t.Fatalf("haproxy: %v", err)
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			_, port, _ := net.SplitHostPort(addr)
			t.Fatalf("haproxy: %s accepts connections before haproxy starts: held by %s", addr, PortOwner(atoi(port)))
		}
	}
	dir := t.TempDir()
	h := &HAProxy{ConfigPath: filepath.Join(dir, "haproxy.cfg"), out: &syncBuffer{}, done: make(chan struct{})}
	if err := os.WriteFile(h.ConfigPath, []byte(cfg), 0o600); err != nil {
		t.Fatalf("haproxy: %v", err)
	}
	h.cmd = command(t, bin, opts, "-db", "-f", h.ConfigPath)
	h.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "NODE_IP=" + opts.NodeIP}, opts.Env...)
	h.cmd.Dir = dir
	if opts.Dir != "" {
		h.cmd.Dir = opts.Dir
	}
	h.cmd.Stdout, h.cmd.Stderr = h.out, h.out
	h.cmd.SysProcAttr = sysProcAttr()
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("haproxy: %v", err)
	}
	go func() { _ = h.cmd.Wait(); close(h.done) }()
	t.Cleanup(h.Stop)

	deadline := time.Now().Add(opts.ReadyTimeout)
	for _, addr := range opts.Wait {
		for {
			select {
			case <-h.done:
				t.Fatalf("haproxy exited (%v) before listening on %s; its output:\n%s", h.cmd.ProcessState, addr, h.Output())
			default:
			}
			c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
			if err == nil {
				_ = c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("haproxy does not listen on %s after %s: %v; its output:\n%s", addr, opts.ReadyTimeout, err, h.Output())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return h
}

// Output returns what haproxy printed so far (stdout and stderr).
func (h *HAProxy) Output() string { return h.out.String() }

// Running reports whether the process has not exited.
func (h *HAProxy) Running() bool {
	select {
	case <-h.done:
		return false
	default:
		return true
	}
}

// Stop terminates haproxy (SIGTERM, then SIGKILL after two seconds) and waits for it. It is
// safe to call more than once.
func (h *HAProxy) Stop() {
	h.stopOnce.Do(func() {
		_ = h.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-h.done:
			return
		case <-time.After(2 * time.Second):
		}
		_ = h.cmd.Process.Kill()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
		}
	})
}

// Check runs "haproxy -c" on cfg, with the environment and working directory that opts give
// StartHAProxy, and returns its output and whether haproxy accepted the config.
func Check(t testing.TB, cfg string, opts Options) (string, bool) {
	t.Helper()
	bin := opts.binary(t)
	path := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("haproxy -c: %v", err)
	}
	cmd := command(t, bin, opts, "-c", "-f", path)
	if opts.NodeIP == "" {
		opts.NodeIP = DefaultNodeIP
	}
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "NODE_IP=" + opts.NodeIP}, opts.Env...)
	cmd.Dir = filepath.Dir(path)
	if opts.Dir != "" {
		cmd.Dir = opts.Dir
	}
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// syncBuffer is a bytes.Buffer safe for the process's writers and the test's readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<20 {
		return len(p), nil // enough to diagnose; drop the rest
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func atoi(s string) int {
	var n int
	_, _ = fmt.Sscanf(s, "%d", &n)
	return n
}
