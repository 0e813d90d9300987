package admission

import (
	"crypto/tls"
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// ServerOptions configure the webhook server that NewManager assembles.
type ServerOptions struct {
	// Inject is what the injector brings to every injection.
	Inject inject.Config
	// Host and Port are where the webhook server listens (TLS); Port 0 means 9443.
	Host string
	Port int
	// CertDir holds tls.crt and tls.key; the server reloads them when they change. Used only
	// when Certs is nil.
	CertDir string
	// Certs provides the serving certificate; nil means certs.Files on CertDir.
	Certs certs.Source
	// MetricsBindAddress serves Prometheus /metrics; "0" turns it off, "" means ":8080".
	MetricsBindAddress string
	// HealthProbeBindAddress serves /healthz and /readyz; "0" or "" turns them off.
	HealthProbeBindAddress string
	// PolicyFile is the policy file, watched for changes; empty means the default policy.
	PolicyFile string
	// Logger is the manager's logger; handlers log through the request logger derived from it.
	Logger logr.Logger
}

// policySource is the policy file, checked now, or the default policy when there is none.
func policySource(file string) (PolicySource, error) {
	if file == "" {
		return StaticPolicy{P: policy.Default()}, nil
	}
	return NewPolicyFile(file)
}

// NewManager assembles the controller-runtime manager that `metrics-proxy serve` runs: the
// webhook server with every handler registered, the metrics server (controller-runtime's metrics
// and ours), /healthz (alive) and /readyz (ready once the webhook server serves TLS).
func NewManager(cfg *rest.Config, o ServerOptions) (manager.Manager, error) {
	policies, err := policySource(o.PolicyFile)
	if err != nil {
		return nil, err
	}
	port := o.Port
	if port == 0 {
		port = webhook.DefaultPort
	}
	source := o.Certs
	if source == nil {
		source = &certs.Files{Dir: o.CertDir}
	}
	hook := webhook.NewServer(webhook.Options{Host: o.Host, Port: port,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.GetCertificate = source.GetCertificate }}})
	probes := o.HealthProbeBindAddress
	if probes == "" {
		probes = "0"
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Logger:                 o.Logger,
		WebhookServer:          hook,
		Metrics:                metricsserver.Options{BindAddress: o.MetricsBindAddress},
		HealthProbeBindAddress: probes,
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
	if err := mgr.Add(manager.RunnableFunc(source.Start)); err != nil {
		return nil, fmt.Errorf("add certificate source: %w", err)
	}
	if pf, ok := policies.(*PolicyFile); ok {
		if err := mgr.Add(pf); err != nil {
			return nil, fmt.Errorf("watch policy file: %w", err)
		}
	}
	// GetWebhookServer, not hook: the manager runs the server only once it has been asked for it.
	Register(mgr.GetWebhookServer(), Options{Inject: o.Inject, Reader: mgr.GetClient(),
		APIReader: mgr.GetAPIReader(), Policies: policies})
	return mgr, nil
}
