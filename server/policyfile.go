package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/metrics-proxy/injector/webhook/policy"
)

// MaxPolicyBytes is the largest policy file read; a policy is a few hundred bytes.
const MaxPolicyBytes = 64 << 10

// errUnsettled is returned by reload while the file changes under the read.
var errUnsettled = errors.New("the policy file changed while it was read")

// PolicyFile is an admission.PolicySource read from a file and re-read when it changes: on a file-system
// event in its directory (a ConfigMap volume swaps a symlink), once the events have settled, and,
// as a backstop, every Interval. A file is read only whole: no larger than MaxPolicyBytes, and
// unchanged (size and modification time) from before the read to after it; a file still being
// written is read again once it settles.
// An invalid file at start is an error (NewPolicyFile); an invalid change later is logged and the
// last valid policy stays in force, so a typo never opens or closes the gate by accident.
type PolicyFile struct {
	// Path is the policy file.
	Path string
	// Interval is how often the file is re-read whatever the events; 0 means 10 s.
	Interval time.Duration
	// Settle is how long the directory must be quiet after an event before the file is read;
	// 0 means 500 ms. A file written in place in several writes is read once, whole.
	Settle time.Duration

	current atomic.Pointer[policy.Policy]
	data    []byte
}

// NewPolicyFile reads and checks path; an invalid policy is an error naming the file.
func NewPolicyFile(path string) (*PolicyFile, error) {
	f := &PolicyFile{Path: path}
	if _, err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Policy implements admission.PolicySource.
func (f *PolicyFile) Policy() *policy.Policy { return f.current.Load() }

// reload reads the file and, when its content changed and is valid, puts it in force.
func (f *PolicyFile) reload() (changed bool, err error) {
	data, err := readWhole(f.Path)
	if err != nil {
		return false, err
	}
	if f.current.Load() != nil && bytes.Equal(data, f.data) {
		return false, nil
	}
	p, err := policy.Parse(data)
	if err != nil {
		return false, fmt.Errorf("policy file %s: %w", f.Path, err)
	}
	f.data = data
	f.current.Store(p)
	return true, nil
}

// readWhole reads a file of at most MaxPolicyBytes that did not change during the read.
func readWhole(path string) ([]byte, error) {
	before, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	if before.Size() > MaxPolicyBytes {
		return nil, fmt.Errorf("policy file %s: %d bytes, more than the %d KiB a policy may have", path, before.Size(), MaxPolicyBytes>>10)
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, MaxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	if len(data) > MaxPolicyBytes {
		return nil, fmt.Errorf("policy file %s: more than the %d KiB a policy may have", path, MaxPolicyBytes>>10)
	}
	after, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	if int64(len(data)) != after.Size() || !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		return nil, fmt.Errorf("policy file %s: %w", path, errUnsettled)
	}
	return data, nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every replica answers admission
// requests, so every replica watches the policy, leader or not.
func (f *PolicyFile) NeedLeaderElection() bool { return false }

// Start watches the file until ctx ends; it implements manager.Runnable.
func (f *PolicyFile) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("policy").WithValues("file", f.Path)
	watcher, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch policy file: %w", err)
	}
	defer watcher.Close()
	if err := watcher.Add(filepath.Dir(f.Path)); err != nil {
		return fmt.Errorf("watch policy file: %w", err)
	}
	interval := f.Interval
	if interval <= 0 {
		interval = 10 * time.Second
	}
	settle := f.Settle
	if settle <= 0 {
		settle = 500 * time.Millisecond
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	quiet := time.NewTimer(settle)
	quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-watcher.Errors:
			logger.Error(err, "policy file watch")
			continue
		case <-watcher.Events:
			quiet.Reset(settle) // read once the writes have settled
			continue
		case <-quiet.C:
		case <-tick.C:
		}
		switch changed, err := f.reload(); {
		case errors.Is(err, errUnsettled):
			quiet.Reset(settle)
		case err != nil:
			policyReloads.WithLabelValues("invalid").Inc()
			logger.Error(err, "policy file changed but is invalid: the previous policy stays in force")
		case changed:
			policyReloads.WithLabelValues("loaded").Inc()
			logger.Info("policy reloaded", "enforcement", f.Policy().Enforcement)
		}
	}
}
