package admission

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/internal/testtool"
	"github.com/metrics-proxy/injector/webhook/manifest"
)

// testEnv is the one local control plane of this package's integration tests, started in TestMain
// with our webhook server registered through deploy/base's MutatingWebhookConfiguration.
var testEnv struct {
	missing    error // why there is no control plane; integration tests skip (or fail in CI)
	cfg        *rest.Config
	client     client.Client
	kubeconfig string // file for kubectl
	kubectl    string
	probes     string // host:port of /healthz and /readyz
	metrics    string // host:port of /metrics
}

// testVersion is the injector version the integration tests run with.
const testVersion = "integration"

func TestMain(m *testing.M) {
	os.Exit(runWithControlPlane(m))
}

func runWithControlPlane(m *testing.M) int {
	assets, err := testtool.ControlPlaneAssets()
	if err != nil {
		testEnv.missing = err
		return m.Run()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop, err := startControlPlane(ctx, assets)
	if err != nil {
		fmt.Fprintf(os.Stderr, "start control plane: %v\n", err)
		return 1
	}
	defer stop()
	return m.Run()
}

// startControlPlane starts kube-apiserver and etcd, installs deploy/base's webhook configuration
// pointed at a local webhook server, and starts that server as `metrics-proxy serve` would.
func startControlPlane(ctx context.Context, assets string) (func(), error) {
	host := "127.0.0.1"
	port, err := freePort(host)
	if err != nil {
		return nil, err
	}
	hooks, err := loadWebhooks(filepath.Join(testtool.RepoRoot(), "deploy", "base", "mutating-webhook.yaml"), host, port)
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			MutatingWebhooks: hooks, LocalServingHost: host, LocalServingPort: port},
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("envtest: %w", err)
	}
	stop, err := startServer(ctx, env, cfg, host, port)
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	if err := connect(env, cfg, assets); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// startServer runs our webhook server as `metrics-proxy serve` would, until stop is called.
func startServer(ctx context.Context, env *envtest.Environment, cfg *rest.Config, host string, port int) (stop func(), err error) {
	probePort, err := freePort(host)
	if err != nil {
		return nil, err
	}
	metricsPort, err := freePort(host)
	if err != nil {
		return nil, err
	}
	testEnv.probes = net.JoinHostPort(host, strconv.Itoa(probePort))
	testEnv.metrics = net.JoinHostPort(host, strconv.Itoa(metricsPort))
	ctrl.SetLogger(testLogger())
	mgr, err := NewManager(cfg, ServerOptions{
		Inject: inject.Config{Version: testVersion},
		Host:   host, Port: port, CertDir: env.WebhookInstallOptions.LocalServingCertDir,
		MetricsBindAddress: testEnv.metrics, HealthProbeBindAddress: testEnv.probes,
		Logger: testLogger(),
	})
	if err != nil {
		return nil, err
	}
	mgrCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mgrCtx) }()
	stop = func() {
		cancel()
		<-done
		_ = env.Stop()
	}
	if err := waitReady("http://"+testEnv.probes+"/readyz", 30*time.Second); err != nil {
		cancel()
		<-done
		return nil, err
	}
	return stop, nil
}

// connect prepares the clients of the tests: a controller-runtime client and kubectl.
func connect(env *envtest.Environment, cfg *rest.Config, assets string) error {
	user, err := env.AddUser(envtest.User{Name: "tester", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	testEnv.kubeconfig = filepath.Join(env.WebhookInstallOptions.LocalServingCertDir, "kubeconfig")
	if err := os.WriteFile(testEnv.kubeconfig, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	testEnv.kubectl = filepath.Join(assets, "kubectl")
	testEnv.cfg = cfg
	testEnv.client, err = client.New(cfg, client.Options{})
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	return nil
}

// testLogger logs the server's errors to stderr (set TEST_LOG_LEVEL=-1 for every decision).
func testLogger() logr.Logger {
	level := slog.LevelWarn
	if v, err := strconv.Atoi(os.Getenv("TEST_LOG_LEVEL")); err == nil {
		level = slog.Level(v)
	}
	return logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// loadWebhooks reads the MutatingWebhookConfiguration of the deploy manifests and points its
// service references at https://host:port, as a cluster's Service would route them.
func loadWebhooks(file, host string, port int) ([]*admissionregistrationv1.MutatingWebhookConfiguration, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	docs, err := manifest.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []*admissionregistrationv1.MutatingWebhookConfiguration
	for _, d := range docs {
		if d.Kind != "MutatingWebhookConfiguration" {
			continue
		}
		cfg := &admissionregistrationv1.MutatingWebhookConfiguration{}
		if err := yaml.UnmarshalStrict(d.YAML, cfg); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, d.Index, err)
		}
		for i := range cfg.Webhooks {
			svc := cfg.Webhooks[i].ClientConfig.Service
			if svc == nil || svc.Path == nil {
				return nil, fmt.Errorf("%s: webhook %s has no service path", file, cfg.Webhooks[i].Name)
			}
			url := fmt.Sprintf("https://%s%s", net.JoinHostPort(host, strconv.Itoa(port)), *svc.Path)
			cfg.Webhooks[i].ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: &url}
		}
		out = append(out, cfg)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no MutatingWebhookConfiguration", file)
	}
	return out, nil
}

// freePort asks the kernel for a free TCP port on host.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls url until it answers 200, for at most timeout.
func waitReady(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s", url, timeout)
}

// needControlPlane skips (outside CI) or fails (in CI) a test when TestMain found no control plane.
func needControlPlane(t *testing.T) {
	t.Helper()
	if testEnv.missing != nil {
		testtool.Missing(t, testEnv.missing.Error())
	}
}
