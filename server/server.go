package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
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
	// MetricsSecure serves /metrics over HTTPS (a self-signed certificate, TLS 1.2 or later,
	// HTTP/1.1), each request authenticated (TokenReview) and authorized (SubjectAccessReview
	// of get on the non-resource URL /metrics) by the API server; false serves plain HTTP to all.
	MetricsSecure bool
	// HealthProbeBindAddress serves /healthz and /readyz; "0" or "" turns them off.
	HealthProbeBindAddress string
	// PprofBindAddress serves Go's /debug/pprof/ (controller-runtime's PprofBindAddress), to
	// anyone who reaches it: for profiling on a loopback address; "0" or "" turns it off.
	PprofBindAddress string
	// PolicyFile is the policy file, watched for changes; empty means the default policy.
	PolicyFile string
	// LeaderElection, when true, elects one leader among the replicas through the Lease
	// LeaderElectionID in LeaderElectionNamespace, for the runnables that need one. The
	// certificate source and the policy watcher run on every replica regardless.
	LeaderElection          bool
	LeaderElectionID        string
	LeaderElectionNamespace string
	// ClientCAFile, when set, makes the webhook server require a client certificate signed by a
	// CA in this PEM file (the API server's, configured through its admission configuration),
	// read again every ClientCAInterval (0: DefaultClientCAInterval) and swapped when it changed.
	ClientCAFile     string
	ClientCAInterval time.Duration
	// MaxInFlight bounds the reviews processed at once; 0 means DefaultMaxInFlight.
	MaxInFlight int
	// MaxConnections bounds the webhook server's open connections, MaxConnectionsPerPeer those
	// of one remote address; 0 means DefaultMaxConnections, DefaultMaxConnectionsPerPeer.
	MaxConnections, MaxConnectionsPerPeer int
	// Logger is the manager's logger; handlers log through the request logger derived from it.
	Logger logr.Logger
	// TLSSecretRollout makes the pod template's config hash include the frontend certificate
	// Secret a proxy mounts (metrics-proxy.io/tls-secret), at injection and in the rollout
	// controller: a renewed certificate rolls the pods. It needs get, list and watch on Secrets
	// (deploy/components/tls-secret-rollout); off, nothing reads a Secret.
	TLSSecretRollout bool
	// Controllers, when set, adds the day-two controllers (rollouts, audit, re-injection; see
	// webhook/controller), which run on the leader only; Inject and the policy come from here.
	Controllers *controller.Options
}

// errNoCerts is returned by New when Options.Certs is nil.
var errNoCerts = errors.New("no certificate source: set Options.Certs (certs.New)")

// New assembles the controller-runtime manager that `metrics-proxy serve` runs: the webhook
// server with every handler registered (bounded: see webhookServer), the metrics server
// (controller-runtime's metrics and ours), /healthz (alive) and /readyz (ready while the
// certificate is loaded, the webhook server serves TLS, the API server answers and the informer
// caches have synced; see cache.go for what they hold). An invalid policy file is an error
// before anything talks to a cluster.
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
	hook := newWebhookServer(o.Host, port, source.GetCertificate, o.ClientCAFile,
		serverLimits{maxInFlight: o.MaxInFlight, maxConns: o.MaxConnections, maxPeerConns: o.MaxConnectionsPerPeer,
			clientCAInterval: o.ClientCAInterval}, o.Logger)
	api, err := newAPIReachability(cfg)
	if err != nil {
		return nil, err
	}
	probes := orOff(o.HealthProbeBindAddress)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Logger:                  o.Logger,
		Cache:                   cacheOptions(),
		WebhookServer:           hook,
		Metrics:                 metricsOptions(o),
		HealthProbeBindAddress:  probes,
		PprofBindAddress:        orOff(o.PprofBindAddress),
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
	if err := mgr.AddReadyzCheck("apiserver", api.Check); err != nil {
		return nil, fmt.Errorf("add readyz check: %w", err)
	}
	if err := prepareCache(context.Background(), mgr); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("informers", cacheSynced(mgr.GetCache())); err != nil {
		return nil, fmt.Errorf("add readyz check: %w", err)
	}
	hashes, err := newConfigHashCache(context.Background(), mgr)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(api); err != nil {
		return nil, fmt.Errorf("add API server probe: %w", err)
	}
	if err := mgr.Add(everyReplica(source.Start)); err != nil {
		return nil, fmt.Errorf("add certificate source: %w", err)
	}
	if pf, ok := policies.(*PolicyFile); ok {
		if err := mgr.Add(pf); err != nil {
			return nil, fmt.Errorf("watch policy file: %w", err)
		}
	}
	// What the injector writes, the validator admits: its own proxy-cert image.
	policies = &injectorImagePolicy{PolicySource: policies, image: o.Inject.InjectorImage}
	live, err := liveDaemonSets(mgr)
	if err != nil {
		return nil, err
	}
	// GetWebhookServer, not hook: the manager runs the server only once it has been asked for it.
	var secrets client.Reader
	if o.TLSSecretRollout {
		secrets = mgr.GetAPIReader()
	}
	admission.Register(mgr.GetWebhookServer(), admission.Options{Inject: o.Inject, Reader: mgr.GetClient(),
		APIReader: mgr.GetAPIReader(), ConfigHashes: hashes, Policies: policies, Secrets: secrets, Live: live})
	if o.Controllers != nil {
		c := *o.Controllers
		c.Inject, c.Policies, c.TLSSecrets = o.Inject, policies, o.TLSSecretRollout
		if err := controller.Setup(context.Background(), mgr, c); err != nil {
			return nil, err
		}
	}
	return mgr, nil
}

// injectorImagePolicy is a PolicySource whose policies carry the image the injector writes into
// the proxy-cert init container (policy.Policy.InjectorImage). It hands out one policy per policy
// of its source, the same pointer until the source's changes: the validating handler's verdict
// cache keeps its verdicts while the policy is the same one (see admission.VerdictCache).
type injectorImagePolicy struct {
	admission.PolicySource
	image string
	last  atomic.Pointer[[2]*policy.Policy] // the source's policy and the one handed out for it
}

// Policy implements admission.PolicySource.
func (p *injectorImagePolicy) Policy() *policy.Policy {
	base := p.PolicySource.Policy()
	if p.image == "" {
		return base
	}
	if last := p.last.Load(); last != nil && last[0] == base {
		return last[1]
	}
	out := base.WithInjectorImage(p.image)
	p.last.Store(&[2]*policy.Policy{base, out})
	return out
}

// liveDaemonSets is the ConfigMap validator's live look-up, through the manager's REST config
// and HTTP client (its credentials, its connections).
func liveDaemonSets(mgr manager.Manager) (*admission.LiveDaemonSets, error) {
	cs, err := kubernetes.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("live DaemonSet lists: %w", err)
	}
	return admission.NewLiveDaemonSets(cs.AppsV1().RESTClient(), 0, 0), nil
}

// policySource is the policy file, checked now, or the default policy when there is none.
func policySource(file string) (admission.PolicySource, error) {
	if file == "" {
		return admission.StaticPolicy{P: policy.Default()}, nil
	}
	return NewPolicyFile(file)
}

// metricsOptions serves /metrics as Options say: plain, or over HTTPS behind the API server's
// authentication and authorization.
func metricsOptions(o Options) metricsserver.Options {
	mo := metricsserver.Options{BindAddress: o.MetricsBindAddress}
	if o.MetricsSecure {
		mo.SecureServing = true
		mo.FilterProvider = filters.WithAuthenticationAndAuthorization
		mo.TLSOpts = []func(*tls.Config){func(c *tls.Config) {
			c.MinVersion, c.CipherSuites, c.NextProtos = tls.VersionTLS12, cipherSuites, []string{"http/1.1"}
		}}
	}
	return mo
}

// orOff is addr, or "0" (controller-runtime's off) when addr is empty.
func orOff(addr string) string {
	if addr == "" {
		return "0"
	}
	return addr
}
