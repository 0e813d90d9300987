package server

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/metrics-proxy/injector/webhook/policy"
)

// PolicyFile is an admission.PolicySource read from a file and re-read when it changes: on a file-system
// event in its directory (a ConfigMap volume swaps a symlink) and, as a backstop, every Interval.
// An invalid file at start is an error (NewPolicyFile); an invalid change later is logged and the
// last valid policy stays in force, so a typo never opens or closes the gate by accident.
type PolicyFile struct {
	// Path is the policy file.
	Path string
	// Interval is how often the file is re-read whatever the events; 0 means 10 s.
	Interval time.Duration

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
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return false, fmt.Errorf("policy file: %w", err)
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
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-watcher.Errors:
			logger.Error(err, "policy file watch")
		case <-watcher.Events:
		case <-tick.C:
		}
		switch changed, err := f.reload(); {
		case err != nil:
			policyReloads.WithLabelValues("invalid").Inc()
			logger.Error(err, "policy file changed but is invalid: the previous policy stays in force")
		case changed:
			policyReloads.WithLabelValues("loaded").Inc()
			logger.Info("policy reloaded", "enforcement", f.Policy().Enforcement)
		}
	}
}
