//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/metrics-proxy/injector/e2e/harness"
)

// stopTimeout bounds how long a process may take to exit after SIGTERM before SIGKILL.
const stopTimeout = 10 * time.Second

// process is a child of the test: its output in a log file (kept for diagnosis until Down) and
// its last lines in memory, its pid in a pid file so that a later run can stop it if this one
// is killed.
type process struct {
	name    string
	cmd     *exec.Cmd
	tail    *harness.TailBuffer
	log     *os.File
	pidFile string
	done    chan struct{}
	once    sync.Once
}

// start starts a process called name (unique in the run) from args, logging to dir/logs.
func start(dir, name string, args ...string) (*process, error) {
	log, err := os.Create(filepath.Join(dir, "logs", name+".log"))
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, tail: &harness.TailBuffer{Size: 8 << 10}, log: log, done: make(chan struct{}), pidFile: filepath.Join(dir, "pids", name)}
	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Stdout = multiWriter{log, p.tail}
	p.cmd.Stderr = p.cmd.Stdout
	p.cmd.SysProcAttr = childAttr()
	if err := p.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if err := writePidFile(p.pidFile, p.cmd.Process.Pid); err != nil {
		_ = p.cmd.Process.Kill()
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); _ = log.Close(); close(p.done) }()
	return p, nil
}

// Pid is the process id.
func (p *process) Pid() int { return p.cmd.Process.Pid }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, SIGKILL after stopTimeout, and waits; safe to call twice.
func (p *process) stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(stopTimeout):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		_ = os.Remove(p.pidFile)
	})
}

// kill sends SIGKILL and waits (a node's kubelet "crashing").
func (p *process) kill() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		_ = os.Remove(p.pidFile)
	})
}

// failure is the process's state and the end of its output.
func (p *process) failure() string {
	state := "still running"
	if p.exited() {
		state = "exited: " + p.cmd.ProcessState.String()
	}
	return fmt.Sprintf("%s (pid %d) %s; the end of its output:\n%s", p.name, p.Pid(), state, p.tail.String())
}

// waitFor polls check until it returns nil, for at most timeout; it gives up at once when the
// process exits. Errors carry the process's output.
func (p *process) waitFor(ctx context.Context, what string, timeout time.Duration, check func(context.Context) error) error {
	err := poll(ctx, timeout, p.done, check)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errGone):
		return fmt.Errorf("%s: %s", what, p.failure())
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", what, ctx.Err())
	default:
		return fmt.Errorf("%s: %w; %s", what, err, p.failure())
	}
}

var errGone = errors.New("exited")

// poll runs check every 250ms until it returns nil, for at most timeout; gone (may be nil)
// closing ends it with errGone.
func poll(ctx context.Context, timeout time.Duration, gone <-chan struct{}, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		last := check(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-gone:
			return errGone
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("not after %s: %w", timeout, last)
			}
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// writePidFile records pid and its start time, so that a later run kills this process and not
// another that reused the pid.
func writePidFile(file string, pid int) error {
	st, err := startTime(pid)
	if err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	if err := os.WriteFile(file, []byte(fmt.Sprintf("%d %s\n", pid, st)), 0o600); err != nil {
		return fmt.Errorf("pid file: %w", err)
	}
	return nil
}

// startTime is field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
func startTime(pid int) (string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	return fields[19], nil
}

type multiWriter []interface{ Write([]byte) (int, error) }

func (m multiWriter) Write(b []byte) (int, error) {
	for _, w := range m {
		_, _ = w.Write(b)
	}
	return len(b), nil
}
