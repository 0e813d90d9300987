package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/metrics-proxy/injector/e2e/dataplane"
	"github.com/metrics-proxy/injector/webhook/components"
)

// LockWait bounds how long Run waits for another process to release the component ports.
const LockWait = 5 * time.Minute

// portLock is the exclusive flock on dataplane.LockFileName: the lock every test that uses the
// component ports takes, so the scenario never runs beside a data-plane test or another run.
type portLock struct{ f *os.File }

// lockPorts takes the component-port lock, waiting at most LockWait and saying once, on out,
// who holds it while it waits.
func lockPorts(ctx context.Context, out io.Writer) (*portLock, error) {
	path := filepath.Join(os.TempDir(), dataplane.LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("component port lock: %w", err)
	}
	deadline := time.Now().Add(LockWait)
	for said := false; ; {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		holder, _ := os.ReadFile(path)
		who := strings.TrimSpace(string(holder))
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			_ = f.Close()
			return nil, fmt.Errorf("component port lock %s held by %s for longer than %s: %w", path, who, LockWait, err)
		}
		if !said {
			fmt.Fprintf(out, "  waiting for the component ports: %s holds %s\n", who, path)
			said = true
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := f.Truncate(0); err == nil {
		_, _ = fmt.Fprintf(f, "pid %d (%s)\n", os.Getpid(), filepath.Base(os.Args[0]))
	}
	return &portLock{f: f}, nil
}

// unlock releases the lock.
func (l *portLock) unlock() {
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
}

// checkPortsFree makes sure every component port can be bound on each of hosts, and names the
// process that holds it when not.
func checkPortsFree(hosts ...string) error {
	var taken []string
	for _, c := range components.All() {
		for _, host := range hosts {
			addr := net.JoinHostPort(host, strconv.Itoa(int(c.Port)))
			l, err := net.Listen("tcp", addr)
			if err != nil {
				taken = append(taken, fmt.Sprintf("port %d (%s) on %s is taken by %s", c.Port, c.Name, host,
					dataplane.PortOwner(int(c.Port))))
				continue
			}
			_ = l.Close()
		}
	}
	if len(taken) > 0 {
		return fmt.Errorf("component ports not free: %s", strings.Join(taken, "; "))
	}
	return nil
}

// CheckPorts reports, naming the holders, which component ports are taken on 127.0.0.1 (the
// components) or on NodeIP and WorkerIP (the proxies); nil when all are free. Hold the component-port lock
// around it, or another test may take them meanwhile.
func CheckPorts() error { return checkPortsFree("127.0.0.1", NodeIP, WorkerIP) }
