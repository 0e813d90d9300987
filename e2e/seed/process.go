package seed

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/metrics-proxy/injector/e2e/harness"
)

// StopTimeout bounds how long a child process may take to exit after SIGTERM before SIGKILL.
const StopTimeout = 5 * time.Second

// process is a child process of the scenario: in its own process group (a Ctrl-C on the
// terminal reaches only Run, which stops it in order), killed by the kernel if this process
// dies, its output kept for diagnosis.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *harness.TailBuffer
	done chan struct{}
	once sync.Once
}

// startProcess starts path with args and env (nil: none beyond what attr adds).
func startProcess(name, path string, args, env []string, attr *syscall.SysProcAttr) (*process, error) {
	p := &process{name: name, out: &harness.TailBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = env
	// "/" as a container's working directory: a process started as another user (haproxy as the
	// container's uid) must be able to enter it, whatever the permissions of the checkout's parents.
	p.cmd.Dir = "/"
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if attr == nil {
		attr = &syscall.SysProcAttr{}
	}
	childAttr(attr)
	p.cmd.SysProcAttr = attr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Pid returns the process id.
func (p *process) Pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM, then SIGKILL after StopTimeout, and waits for the process. Safe to call
// more than once.
func (p *process) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			return
		case <-time.After(StopTimeout):
		}
		_ = p.cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(StopTimeout):
		}
	})
}

// failure describes why the process is not usable: its exit status, or that it is still running,
// and the end of its output.
func (p *process) failure() string {
	state := "still running"
	if p.exited() {
		state = "exited: " + p.cmd.ProcessState.String()
	}
	return fmt.Sprintf("%s (pid %d) %s; the end of its output:\n%s", p.name, p.Pid(), state, p.out.String())
}

// waitFor polls check every interval until it returns nil, the process exits, ctx ends or
// timeout passes; the error carries the process's output.
func (p *process) waitFor(ctx context.Context, what string, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if last = check(ctx); last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s: %s", what, p.failure())
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s: not after %s (%v); %s", what, timeout, last, p.failure())
			}
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
