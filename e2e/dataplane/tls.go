package dataplane

import (
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/metrics-proxy/injector/webhook/names"
)

// TLS frontends: a config whose binds terminate TLS (`bind ${NODE_IP}:PORT ssl crt
// names.CertFile`) runs with Options.CertDir mounted at names.CertDir, in a private mount
// namespace of haproxy's own (as the proxy pod mounts the proxy-cert volume); probes to the
// addresses given to Harness.UseTLS go over TLS.

// command returns how to run haproxy with args under opts: directly, or, with opts.CertDir, in a
// private mount namespace (a tmpfs on /run, CertDir bound at names.CertDir), which needs root.
func command(t testing.TB, bin string, opts Options, args ...string) *exec.Cmd {
	t.Helper()
	if opts.CertDir == "" {
		return exec.Command(bin, args...)
	}
	for _, tool := range []string{"unshare", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("haproxy with a frontend certificate: %v", err)
		}
	}
	script := fmt.Sprintf("set -e\nmount -t tmpfs -o size=1m,mode=0755 dataplane-run /run\nmkdir -p %[1]s\nmount --bind %[2]s %[1]s\nmount -o remount,bind,ro %[1]s\nexec \"$@\"",
		shellQuote(names.CertDir), shellQuote(opts.CertDir))
	return exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", bin}, args...)...)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// UseTLS makes every later probe of the Harness to addr go over TLS with cfg (nil: stop).
func (h *Harness) UseTLS(addr string, cfg *tls.Config) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tls == nil {
		h.tls = map[string]*tls.Config{}
	}
	if cfg == nil {
		delete(h.tls, addr)
		return
	}
	h.tls[addr] = cfg
}

// TLSConfig returns the TLS configuration probes to addr use; nil: plain TCP.
func (h *Harness) TLSConfig(addr string) *tls.Config {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.tls[addr]
}

// dialer returns how to connect to addr: TCP, or TLS when cfg is set (the handshake completes
// within the connection's deadline).
func dialer(cfg *tls.Config) func(addr string) (net.Conn, error) {
	return func(addr string) (net.Conn, error) {
		conn, err := net.DialTimeout("tcp", addr, RequestTimeout)
		if err != nil || cfg == nil {
			return conn, err
		}
		return tls.Client(conn, cfg.Clone()), nil
	}
}
