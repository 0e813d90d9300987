//go:build linux

package testtool

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// MachineLockFile is the file of the machine-wide lock that the heaviest end-to-end tests (the
// real-node cluster, the attack on serve) take, so that they never load this machine together:
// one of them alone fits the webhook's 5 s timeout on two cores, both at once may not.
var MachineLockFile = filepath.Join(os.TempDir(), "metrics-proxy-cluster.lock")

// MachineLock takes the machine-wide lock (flock: the kernel releases it when a killed run's
// process ends), waiting at most wait. It records the holder in the file for the error of the
// next one waiting.
func MachineLock(ctx context.Context, wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(MachineLockFile, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("machine lock: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			holder, _ := os.ReadFile(MachineLockFile)
			_ = f.Close()
			return nil, fmt.Errorf("machine lock %s (held by %s) not free after %s: %w",
				MachineLockFile, strings.TrimSpace(string(holder)), wait, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d (%s)\n", os.Getpid(), filepath.Base(os.Args[0]))), 0)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); _ = f.Close() }, nil
}
