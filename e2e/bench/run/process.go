package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/metrics-proxy/injector/e2e/harness"
)

// server is a webhook server running as a process of its own.
type server struct {
	name string
	cmd  *exec.Cmd
	// port is the webhook port on 127.0.0.1; probe serves /readyz.
	port  int
	probe string
	// metrics serves Prometheus /metrics over plain HTTP (serve runs with --metrics-secure=false).
	metrics string
	// pprof serves /debug/pprof/; empty when the server runs without it.
	pprof string
	done  chan struct{}
	err   error
}

// startServe starts `metrics-proxy serve` against the control plane, as a cluster would run it
// but on loopback addresses, and waits until it is ready.
func startServe(ctx context.Context, bins programs, cp *controlPlane, dir string) (*server, error) {
	// /metrics over plain HTTP, for the end-to-end breakdown (the secure default authenticates
	// with service-account tokens, which the local control plane's admin does not have).
	return startServer(ctx, "metrics-proxy serve", bins.serve, []string{"serve", "--metrics-secure=false"}, cp, dir, "--pprof-bind-address")
}

// startBenchServer starts the bench server: serve plus the no-op path. With cpuProfile set it
// writes a CPU profile of its whole run there.
func startBenchServer(ctx context.Context, bins programs, cp *controlPlane, dir, cpuProfile string) (*server, error) {
	var args []string
	if cpuProfile != "" {
		args = []string{"--cpuprofile", cpuProfile}
	}
	return startServer(ctx, "bench server", bins.server, args, cp, dir, "")
}

// startServer starts bin with args and the addresses of its servers on free loopback ports; with
// pprofFlag set, also /debug/pprof/ on one, given with that flag.
func startServer(ctx context.Context, name, bin string, args []string, cp *controlPlane, dir, pprofFlag string) (*server, error) {
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	s := &server{name: name, port: ports[0], probe: "127.0.0.1:" + strconv.Itoa(ports[1]),
		metrics: "127.0.0.1:" + strconv.Itoa(ports[2]), done: make(chan struct{})}
	args = append(args, "--cert-dir", cp.certDir, "--host", "127.0.0.1",
		"--port", strconv.Itoa(s.port), "--health-probe-bind-address", s.probe,
		"--metrics-bind-address", "127.0.0.1:"+strconv.Itoa(ports[2]))
	if pprofFlag != "" {
		s.pprof = "127.0.0.1:" + strconv.Itoa(ports[3])
		args = append(args, pprofFlag, s.pprof)
	}
	logFile, err := os.Create(filepath.Join(dir, filepath.Base(bin)+".log"))
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	s.cmd = exec.Command(bin, args...)
	// $KUBECONFIG, not --kubeconfig: `serve` then loads its configuration the way it does in a
	// cluster (controller-runtime's config.GetConfig, no client-side rate limit), whereas with
	// --kubeconfig client-go's default limit of 5 requests/s applies to its API reads.
	s.cmd.Env = append(os.Environ(), "KUBECONFIG="+cp.kubeconfig)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	s.cmd.SysProcAttr = childAttrs()
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	if err := s.waitReady(ctx, time.Minute); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, logFile.Name())
	}
	return s, nil
}

// pid is the server's process id.
func (s *server) pid() int { return s.cmd.Process.Pid }

// url is the https URL of a path of the webhook server.
func (s *server) url(path string) string { return fmt.Sprintf("https://127.0.0.1:%d%s", s.port, path) }

// hostPort is where the webhook server listens.
func (s *server) hostPort() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// waitReady polls /readyz until it answers 200, the process exits or timeout passes.
func (s *server) waitReady(ctx context.Context, timeout time.Duration) error {
	err := harness.WaitReady(ctx, "http://"+s.probe+"/readyz", timeout, s.done)
	if errors.Is(err, harness.ErrGone) {
		return fmt.Errorf("%s %w: %w", s.name, err, s.err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// stop sends SIGTERM, waits up to 10 s for the process to end, then kills it.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = s.cmd.Process.Kill()
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
