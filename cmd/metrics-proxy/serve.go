package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/config"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/controller"
)

// serveFlags are the flags of `metrics-proxy serve`.
type serveFlags struct {
	kubeconfig, logFormat string
	verbosity             int
	server                server.Options
	certMode              string
	certs                 certs.Options
	reinject              string
	controllers           controller.Options
}

// newServeCommand is `metrics-proxy serve`.
func newServeCommand(version string) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the admission webhook server (TLS webhooks, /metrics, /healthz, /readyz)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Flags first: a wrong value is reported before anything looks for a cluster.
			logger, err := newLogger(cmd, f.logFormat, f.verbosity)
			if err != nil {
				return err
			}
			mode, err := certs.ParseMode(f.certMode)
			if err != nil {
				return fmt.Errorf("--cert-mode: %w", err)
			}
			if f.controllers.Reinject, err = controller.ParseReinjectMode(f.reinject); err != nil {
				return fmt.Errorf("--reinject: %w", err)
			}
			ctrl.SetLogger(logger)
			if err := setMemoryLimit(logger, os.Getenv); err != nil {
				return err
			}
			cfg, err := restConfig(f.kubeconfig)
			if err != nil {
				return err
			}
			o := f.server
			o.Inject.Version = version
			o.Logger = logger
			o.Controllers = &f.controllers
			o.LeaderElectionNamespace = f.certs.Secret.Namespace
			if o.Certs, err = certs.New(mode, f.certs, cfg); err != nil {
				return err
			}
			mgr, err := server.New(cfg, o)
			if err != nil {
				return err
			}
			logger.Info("starting metrics-proxy", "version", version, "port", o.Port, "certMode", mode, "certDir", f.certs.Dir)
			if err := mgr.Start(cmd.Context()); err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file; default: in-cluster, then $KUBECONFIG, then ~/.kube/config")
	fs.StringVar(&f.certMode, "cert-mode", string(certs.ModeFiles), "serving certificate: files (--cert-dir, reloaded on change), cert-manager (its Secret mounted at --cert-dir) or self-signed (kept in --cert-secret)")
	fs.StringVar(&f.certs.Dir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "directory with tls.crt and tls.key (written in self-signed mode)")
	fs.StringVar(&f.certs.Secret.Name, "cert-secret", "metrics-proxy-webhook-tls", "self-signed: the Secret that keeps the CA and the serving certificate")
	fs.StringVar(&f.certs.Secret.Namespace, "namespace", envOr("POD_NAMESPACE", "metrics-proxy-system"), "the namespace of the leader election Lease and, self-signed, of the Secret and the Service")
	fs.StringVar(&f.certs.Service, "service", "metrics-proxy-webhook", "self-signed: the Service the API server calls, the serving certificate's DNS name")
	fs.StringVar(&f.certs.WebhookConfiguration, "webhook-configuration", "metrics-proxy", "self-signed: the webhook configurations whose caBundle is kept current")
	fs.StringVar(&f.server.Host, "host", "", "address the webhook server listens on; empty: all")
	fs.IntVar(&f.server.Port, "port", 9443, "port of the webhook server")
	fs.StringVar(&f.server.MetricsBindAddress, "metrics-bind-address", ":8080", `address of Prometheus /metrics; "0" turns it off`)
	fs.BoolVar(&f.server.MetricsSecure, "metrics-secure", true, "serve /metrics over HTTPS, each request authenticated and authorized by the API server (get on the non-resource URL /metrics); false: plain HTTP to anyone")
	fs.StringVar(&f.server.HealthProbeBindAddress, "health-probe-bind-address", ":8081", `address of /healthz and /readyz; "0" turns them off`)
	fs.StringVar(&f.server.PprofBindAddress, "pprof-bind-address", "0", `address of Go's /debug/pprof/, unauthenticated: bind it to loopback; "0" turns it off`)
	fs.StringVar(&f.server.ClientCAFile, "client-ca-file", "", "PEM file of the CA that signs the API server's client certificate; when set, the webhook server requires and verifies one")
	fs.IntVar(&f.server.MaxInFlight, "max-in-flight", server.DefaultMaxInFlight, "admission reviews processed at once; one more waits a second for a slot, then gets 429")
	fs.IntVar(&f.server.MaxConnections, "max-connections", server.DefaultMaxConnections, "connections the webhook server holds open; at the cap an idle or unfinished one is closed for the new one, which is refused only when every one is in a request")
	fs.IntVar(&f.server.MaxConnectionsPerPeer, "max-connections-per-peer", server.DefaultMaxConnectionsPerPeer, "connections one remote address may hold open; at the cap its own oldest idle or unfinished one is closed for the new one")
	fs.StringVar(&f.server.PolicyFile, "policy", "", "policy file (reloaded on change); default: the built-in policy")
	addDefaultImageFlag(cmd, &f.server.Inject.DefaultImage)
	addProxyCertImageFlag(cmd, &f.server.Inject.InjectorImage)
	fs.BoolVar(&f.server.LeaderElection, "leader-elect", true, "elect one leader among the replicas (a Lease in --namespace) to run the day-two controllers; the webhooks serve on every replica")
	fs.StringVar(&f.server.LeaderElectionID, "leader-election-id", "metrics-proxy", "name of the leader election Lease")
	fs.StringVar(&f.reinject, "reinject", string(controller.ReinjectOff), "off: the audit only reports stale proxies; stale: it also re-applies them through the API server so that the webhook injects them anew")
	fs.BoolVar(&f.server.TLSSecretRollout, "tls-secret-rollout", false, "include the frontend certificate Secret a proxy mounts (metrics-proxy.io/tls-secret) in its config hash, so that a renewed certificate rolls the pods; needs get, list and watch on Secrets (deploy/components/tls-secret-rollout, Helm value tlsSecretRollout.enabled)")
	fs.DurationVar(&f.controllers.AuditInterval, "audit-interval", controller.DefaultAuditInterval, "time between two audits of the existing proxies, DaemonSets and ConfigMaps")
	fs.StringVar(&f.logFormat, "log-format", "json", "log format: json or text")
	fs.IntVarP(&f.verbosity, "v", "v", 0, "log verbosity; 1 adds debug lines")
	return cmd
}

// newLogger builds the process logger: logr over log/slog, writing to the command's stderr.
func newLogger(cmd *cobra.Command, format string, verbosity int) (logr.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.Level(-verbosity)}
	switch format {
	case "json":
		return logr.FromSlogHandler(slog.NewJSONHandler(cmd.ErrOrStderr(), opts)), nil
	case "text":
		return logr.FromSlogHandler(slog.NewTextHandler(cmd.ErrOrStderr(), opts)), nil
	default:
		return logr.Logger{}, fmt.Errorf("--log-format %q: want json or text", format)
	}
}

// envOr returns the environment variable name, or def when it is unset or empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// restConfig loads the API server connection from --kubeconfig or the usual places.
func restConfig(kubeconfig string) (*rest.Config, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig != "" {
		if cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
		}
	} else if cfg, err = config.GetConfig(); err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	// No client-side rate limit: every validated DaemonSet reads its ConfigMap, and client-go's
	// default of 5 requests/s would queue admission behind it. The API server's priority and
	// fairness protects it instead.
	cfg.QPS, cfg.Burst = -1, 0
	return cfg, nil
}
