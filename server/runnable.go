package server

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// everyReplica is a manager.Runnable that runs on every replica, leader or not: the manager
// starts runnables that do not say so only on the leader.
type everyReplica func(ctx context.Context) error

var _ manager.LeaderElectionRunnable = everyReplica(nil)

// Start implements manager.Runnable.
func (f everyReplica) Start(ctx context.Context) error { return f(ctx) }

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (everyReplica) NeedLeaderElection() bool { return false }
