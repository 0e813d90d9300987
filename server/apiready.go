package server

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Timing of the API server probe behind /readyz.
const (
	// APIProbeInterval is how often the server asks the API server whether it is ready.
	APIProbeInterval = 2 * time.Second
	// APIProbeTimeout bounds one probe.
	APIProbeTimeout = 1500 * time.Millisecond
	// APIStaleAfter is how long without a successful probe makes the server unready.
	APIStaleAfter = 5 * time.Second
)

// apiReachability probes the API server's /readyz (which every user may read) and reports the
// server unready when no probe succeeded for APIStaleAfter: the validating handlers read
// ConfigMaps, DaemonSets and Namespaces from it, and a replica cut off from it would answer every
// proxy review with an error while another replica could answer. It runs on every replica.
type apiReachability struct {
	client rest.Interface
	last   atomic.Int64 // unix nanoseconds of the last successful probe; 0: none yet
}

// newAPIReachability probes the API server that cfg reaches.
func newAPIReachability(cfg *rest.Config) (*apiReachability, error) {
	d, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("API server probe: %w", err)
	}
	return &apiReachability{client: d.RESTClient()}, nil
}

// Start probes until ctx ends; it implements manager.Runnable.
func (a *apiReachability) Start(ctx context.Context) error {
	logger := log.FromContext(ctx).WithName("api-probe")
	tick := time.NewTicker(APIProbeInterval)
	defer tick.Stop()
	reachable := true
	for {
		err := a.probe(ctx)
		switch {
		case err == nil:
			a.last.Store(time.Now().UnixNano())
			if !reachable {
				logger.Info("the API server answers again")
			}
			reachable = true
		case reachable:
			logger.Info("the API server does not answer", "error", err.Error())
			reachable = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (a *apiReachability) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, APIProbeTimeout)
	defer cancel()
	return a.client.Get().AbsPath("/readyz").Do(ctx).Error()
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every replica probes.
func (*apiReachability) NeedLeaderElection() bool { return false }

// Check is the /readyz check: ready while a probe succeeded within APIStaleAfter.
func (a *apiReachability) Check(*http.Request) error {
	last := a.last.Load()
	if last == 0 {
		return fmt.Errorf("the API server has not answered yet")
	}
	if since := time.Since(time.Unix(0, last)); since > APIStaleAfter {
		return fmt.Errorf("the API server has not answered for %s", since.Truncate(time.Second))
	}
	return nil
}
