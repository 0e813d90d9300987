package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/inject"
)

// Options configure Start.
type Options struct {
	// Assets is the directory with kube-apiserver, etcd and kubectl; see Assets.
	Assets string
	// Inject is what the webhook server brings to every injection.
	Inject inject.Config
	// PolicyFile is the validating webhooks' policy file; empty means the default policy.
	PolicyFile string
	// TLSSecretRollout is serve --tls-secret-rollout: the config hash set at injection includes
	// the frontend certificate Secret.
	TLSSecretRollout bool
	// Logger receives the webhook server's logs; logr.Discard() when zero.
	Logger logr.Logger
	// Certs, when set, makes the server's certificate source (default: envtest's certificate
	// files). dir is a fresh directory the source may read or write.
	Certs func(cfg *rest.Config, dir string) (certs.Source, error)
	// WebhookHost is the host in the webhook configurations' URLs: "127.0.0.1" when empty; a
	// certificate with DNS names only needs "localhost".
	WebhookHost string
	// Environment, when set, adjusts the envtest environment before etcd and kube-apiserver
	// start: their flags through ControlPlane.Etcd.Configure() (set ControlPlane.Etcd first, it
	// may be nil) and ControlPlane.GetAPIServer().Configure().
	Environment func(*envtest.Environment)
	// WrapTransport, when set, wraps the webhook server's transport to the API server (a test
	// may delay its watches, so that its cache trails the API server as under load).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// ControlPlane is a running local control plane with our webhook server registered.
type ControlPlane struct {
	// Config reaches the API server as cluster admin.
	Config *rest.Config
	// Client is a controller-runtime client on Config.
	Client client.Client
	// Kubeconfig is a kubeconfig file for Config's user; KubectlPath is the kubectl binary.
	Kubeconfig, KubectlPath string
	// WebhookAddr is where the webhook server listens (host:port, TLS).
	WebhookAddr string
	// ProbeAddr serves /healthz and /readyz; MetricsAddr serves /metrics (host:port, plain HTTP).
	ProbeAddr, MetricsAddr string

	env     *envtest.Environment
	certDir string
	stop    context.CancelFunc
	done    chan error
}

// Assets returns the directory holding kube-apiserver, etcd and kubectl: $KUBEBUILDER_ASSETS when
// set, else the repository's bin/ (filled by hack/build-control-plane.sh, which make runs).
func Assets() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "bin")
	}
	for _, name := range []string{"kube-apiserver", "etcd", "kubectl"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return "", fmt.Errorf("control-plane binary %s missing in %s: run hack/build-control-plane.sh (make test does)", name, dir)
		}
	}
	return dir, nil
}

// RepoRoot returns the root of the repository, found from this source file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// WebhookManifests are the deploy manifests whose webhook configurations Start installs.
func WebhookManifests() []string {
	base := filepath.Join(RepoRoot(), "deploy", "base")
	return []string{filepath.Join(base, "mutating-webhook.yaml"), filepath.Join(base, "validating-webhook.yaml")}
}

// Start starts etcd and kube-apiserver, installs deploy/base's webhook configuration pointed at a
// local webhook server and starts that server as `metrics-proxy serve` does; it returns once the
// server is ready. On error, nothing is left running.
func Start(ctx context.Context, o Options) (_ *ControlPlane, err error) {
	if o.Logger.GetSink() == nil {
		o.Logger = logr.Discard()
	}
	const host = "127.0.0.1"
	ports, err := FreePorts(host, 3)
	if err != nil {
		return nil, err
	}
	urlHost := o.WebhookHost
	if urlHost == "" {
		urlHost = host
	}
	hooks, err := LoadWebhooks(net.JoinHostPort(urlHost, strconv.Itoa(ports[0])), WebhookManifests()...)
	if err != nil {
		return nil, err
	}
	cp := &ControlPlane{
		WebhookAddr: net.JoinHostPort(host, strconv.Itoa(ports[0])),
		ProbeAddr:   net.JoinHostPort(host, strconv.Itoa(ports[1])),
		MetricsAddr: net.JoinHostPort(host, strconv.Itoa(ports[2])),
		KubectlPath: filepath.Join(o.Assets, "kubectl"),
		env: &envtest.Environment{
			BinaryAssetsDirectory: o.Assets,
			WebhookInstallOptions: envtest.WebhookInstallOptions{
				MutatingWebhooks: hooks.Mutating, ValidatingWebhooks: hooks.Validating,
				LocalServingHost: host, LocalServingPort: ports[0]},
		},
	}
	if o.Environment != nil {
		o.Environment(cp.env)
	}
	if cp.Config, err = cp.env.Start(); err != nil {
		_ = cp.env.Stop() // envtest may have started etcd before failing
		return nil, fmt.Errorf("start kube-apiserver and etcd: %w", err)
	}
	defer func() {
		if err != nil {
			cp.Stop()
		}
	}()
	if err := cp.startServer(ctx, o, host, ports[0]); err != nil {
		return nil, err
	}
	if err := cp.connect(); err != nil {
		return nil, err
	}
	return cp, nil
}

// startServer runs the webhook server, as `metrics-proxy serve` would, until Stop.
func (cp *ControlPlane) startServer(ctx context.Context, o Options, host string, port int) error {
	var source certs.Source = &certs.Files{Dir: cp.env.WebhookInstallOptions.LocalServingCertDir}
	if o.Certs != nil {
		dir, err := os.MkdirTemp("", "metrics-proxy-certs-")
		if err != nil {
			return fmt.Errorf("certificate dir: %w", err)
		}
		cp.certDir = dir
		if source, err = o.Certs(cp.Config, dir); err != nil {
			return err
		}
	}
	cfg := rest.CopyConfig(cp.Config)
	if o.WrapTransport != nil {
		cfg.Wrap(o.WrapTransport)
	}
	mgr, err := server.New(cfg, server.Options{
		Inject: o.Inject, Host: host, Port: port, Certs: source,
		MetricsBindAddress: cp.MetricsAddr, HealthProbeBindAddress: cp.ProbeAddr, Logger: o.Logger,
		PolicyFile: o.PolicyFile, TLSSecretRollout: o.TLSSecretRollout,
	})
	if err != nil {
		return err
	}
	mgrCtx, cancel := context.WithCancel(ctx)
	cp.stop, cp.done = cancel, make(chan error, 1)
	go func() { cp.done <- mgr.Start(mgrCtx) }()
	if err := WaitReady(ctx, "http://"+cp.ProbeAddr+"/readyz", 30*time.Second, nil); err != nil {
		return fmt.Errorf("webhook server: %w", err)
	}
	return nil
}

// connect creates the clients: a controller-runtime client and a kubeconfig for kubectl.
func (cp *ControlPlane) connect() error {
	user, err := cp.env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	cp.Kubeconfig = filepath.Join(cp.env.WebhookInstallOptions.LocalServingCertDir, "kubeconfig")
	if err := os.WriteFile(cp.Kubeconfig, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	if cp.Client, err = client.New(cp.Config, client.Options{}); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

// Stop stops the webhook server, kube-apiserver and etcd, and removes their directories.
func (cp *ControlPlane) Stop() {
	if cp.stop != nil {
		cp.stop()
		<-cp.done
		cp.stop = nil
	}
	_ = cp.env.Stop()
	if cp.certDir != "" {
		_ = os.RemoveAll(cp.certDir)
	}
}

// FreePorts asks the kernel for n distinct TCP ports on host that are free at this moment.
func FreePorts(host string, n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// ErrGone is returned by WaitReady when the server exited before it was ready.
var ErrGone = errors.New("exited before it was ready")

// WaitReady polls url (a /readyz) until it answers 200, for at most timeout; it gives up at once
// with ErrGone when gone is closed (the server exited), and may be given a nil gone.
func WaitReady(ctx context.Context, url string, timeout time.Duration, gone <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("readiness probe: %w", err)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-gone:
			return ErrGone
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("not ready at %s after %s", url, timeout)
			}
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
