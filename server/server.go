package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/controller"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// Options configure the server that New assembles.
type Options struct {
	// Inject is what the injector brings to every injection.
	Inject inject.Config
	// Host and Port are where the webhook server listens (TLS); Port 0 means 9443.
	Host string
	Port int
	// Certs provides the serving certificate (certs.New makes one per mode); required.
	Certs certs.Source
	// MetricsBindAddress serves Prometheus /metrics; "0" turns it off, "" means ":8080".
	MetricsBindAddress string
	// HealthProbeBindAddress serves /healthz and /readyz; "0" or "" turns them off.
	HealthProbeBindAddress string
	// PolicyFile is the policy file, watched for changes; empty means the default policy.
	PolicyFile string
	// LeaderElection, when true, elects one leader among the replicas through the Lease
	// LeaderElectionID in LeaderElectionNamespace, for the runnables that need one. The
	// certificate source and the policy watcher run on every replica regardless.
	LeaderElection          bool
	LeaderElectionID        string
	LeaderElectionNamespace string
	// Logger is the manager's logger; handlers log through the request logger derived from it.
	Logger logr.Logger
	// Controllers, when set, adds the day-two controllers (rollouts, audit, re-injection; see
	// webhook/controller), which run on the leader only; Inject and the policy come from here.
	Controllers *controller.Options
}

// errNoCerts is returned by New when Options.Certs is nil.
var errNoCerts = errors.New("no certificate source: set Options.Certs (certs.New)")

// New assembles the controller-runtime manager that `metrics-proxy serve` runs: the webhook
// server with every handler registered, the metrics server (controller-runtime's metrics and
// ours), /healthz (alive) and /readyz (ready once the certificate is loaded and the webhook
// server serves TLS). An invalid policy file is an error before anything talks to a cluster.
func New(cfg *rest.Config, o Options) (manager.Manager, error) {
	if o.Certs == nil {
		return nil, errNoCerts
	}
	policies, err := policySource(o.PolicyFile)
	if err != nil {
		return nil, err
	}
	port := o.Port
	if port == 0 {
		port = webhook.DefaultPort
	}
	source := o.Certs
	hook := webhook.NewServer(webhook.Options{Host: o.Host, Port: port,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.GetCertificate = source.GetCertificate }}})
	probes := o.HealthProbeBindAddress
	if probes == "" {
		probes = "0"
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Logger:                  o.Logger,
		WebhookServer:           hook,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsBindAddress},
		HealthProbeBindAddress:  probes,
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        o.LeaderElectionID,
		LeaderElectionNamespace: o.LeaderElectionNamespace,
		// serve exits when the manager stops: the next leader need not wait out the lease.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return nil, fmt.Errorf("create manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, fmt.Errorf("add healthz check: %w", err)
	}
	if err := mgr.AddReadyzCheck("certificate", source.Ready); err != nil {
		return nil, fmt.Errorf("add readyz check: %w", err)
	}
	if err := mgr.AddReadyzCheck("webhook", hook.StartedChecker()); err != nil {
		return nil, fmt.Errorf("add readyz check: %w", err)
	}
	if err := mgr.Add(everyReplica(source.Start)); err != nil {
		return nil, fmt.Errorf("add certificate source: %w", err)
	}
	if pf, ok := policies.(*PolicyFile); ok {
		if err := mgr.Add(pf); err != nil {
			return nil, fmt.Errorf("watch policy file: %w", err)
		}
	}
	// GetWebhookServer, not hook: the manager runs the server only once it has been asked for it.
	admission.Register(mgr.GetWebhookServer(), admission.Options{Inject: o.Inject, Reader: mgr.GetClient(),
		APIReader: mgr.GetAPIReader(), Policies: policies})
	if o.Controllers != nil {
		c := *o.Controllers
		c.Inject, c.Policies = o.Inject, policies
		if err := controller.Setup(context.Background(), mgr, c); err != nil {
			return nil, err
		}
	}
	return mgr, nil
}

// policySource is the policy file, checked now, or the default policy when there is none.
func policySource(file string) (admission.PolicySource, error) {
	if file == "" {
		return admission.StaticPolicy{P: policy.Default()}, nil
	}
	return NewPolicyFile(file)
}
