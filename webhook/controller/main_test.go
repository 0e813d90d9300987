package controller_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/controller"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// The one control plane of this package: kube-apiserver and etcd with our webhook server
// registered from deploy/base, the real kube-controller-manager running the daemonset
// controller, the real kube-scheduler, three registered nodes whose kubelet the tests play
// (pods become Ready, deleted pods go), and a manager running the day-two controllers.
var (
	cp             *harness.ControlPlane
	cs             kubernetes.Interface
	noControlPlane error
	// writer counts the controllers' writes.
	writer *countingClient
	// events is the manager's Event recorder, for the auditors tests make.
	events recorder.EventRecorder
	// policies is the controllers' policy, which tests may make stricter.
	policies = &mutablePolicy{p: policy.Default()}
	// policyFile is the webhook server's policy file (reloaded on change), which tests may
	// rewrite; it starts as defaultPolicyYAML.
	policyFile string
)

// defaultPolicyYAML is the default policy as a policy file.
const defaultPolicyYAML = `apiVersion: metrics-proxy.io/v1alpha1
kind: Policy
enforcement: Deny
allowedPaths: [/metrics]
components: [kube-proxy, kube-controller-manager, kube-scheduler, etcd]
allowedImages: ["haproxy:3.0*"]
`

// testVersion is the version of the webhook server and of the controllers.
const testVersion = "controller-test"

// testNodes are the registered nodes; the first is a tainted control-plane node.
var testNodes = []string{"control-plane-1", "worker-1", "worker-2"}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	assets, err := harness.Assets()
	if err == nil {
		for _, name := range []string{"kube-controller-manager", "kube-scheduler"} {
			if _, serr := os.Stat(assets + "/" + name); serr != nil {
				err = fmt.Errorf("control-plane binary %s missing in %s: make control-plane", name, assets)
			}
		}
	}
	if err != nil {
		noControlPlane = err
		return m.Run()
	}
	logger := testLogger()
	ctrl.SetLogger(logger)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	policyDir, err := os.MkdirTemp("", "metrics-proxy-controller-policy-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(policyDir)
	policyFile = policyDir + "/policy.yaml"
	if err := os.WriteFile(policyFile, []byte(defaultPolicyYAML), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if cp, err = harness.Start(ctx, harness.Options{Assets: assets, Inject: inject.Config{Version: testVersion}, Logger: logger,
		PolicyFile: policyFile, TLSSecretRollout: true}); err != nil {
		fmt.Fprintf(os.Stderr, "start control plane: %v\n", err)
		return 1
	}
	defer cp.Stop()
	if cs, err = kubernetes.NewForConfig(cp.Config); err != nil {
		fmt.Fprintf(os.Stderr, "clientset: %v\n", err)
		return 1
	}
	kcm, err := cp.StartComponent(assets, "kube-controller-manager", "--controllers=daemonset-controller",
		"--use-service-account-credentials=false", "--leader-elect=false", "--concurrent-daemonset-syncs=2")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer kcm.Stop()
	sched, err := cp.StartComponent(assets, "kube-scheduler", "--leader-elect=false")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sched.Stop()
	for i, n := range testNodes {
		if err := registerNode(ctx, cs, n, i == 0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if proxies.dir, err = os.MkdirTemp("", "metrics-proxy-dataplane-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(proxies.dir)
	defer proxies.stopAll()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wg.Go(func() { playKubelet(ctx, cs) })

	mgr, err := ctrl.NewManager(cp.Config, ctrl.Options{Logger: logger, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		return 1
	}
	writer = &countingClient{Client: mgr.GetClient()}
	events = mgr.GetEventRecorder(controller.EventSource)
	if err := controller.Setup(ctx, mgr, controller.Options{Inject: inject.Config{Version: testVersion},
		Policies: policies, AuditInterval: time.Hour, Client: writer, TLSSecrets: true}); err != nil {
		fmt.Fprintf(os.Stderr, "controllers: %v\n", err)
		return 1
	}
	wg.Go(func() {
		if err := mgr.Start(ctx); err != nil {
			fmt.Fprintf(os.Stderr, "manager: %v\n", err)
		}
	})
	// The manager's first audit (at its start) is over before the tests count writes.
	if err := waitFirstAudit(30 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		fmt.Fprintf(os.Stderr, "kube-controller-manager (running %v):\n%s\n", kcm.Running(), kcm.Output())
		fmt.Fprintf(os.Stderr, "kube-scheduler (running %v):\n%s\n", sched.Running(), sched.Output())
	}
	return code
}

// waitFirstAudit waits until the audit metric exists: the first audit has published.
func waitFirstAudit(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		families, err := metrics.Registry.Gather()
		if err == nil {
			for _, f := range families {
				if f.GetName() == "metrics_proxy_audit_findings" {
					return nil
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the manager's first audit did not publish within %s", timeout)
}

// testLogger logs warnings to stderr (TEST_LOG_LEVEL=-4 shows everything).
func testLogger() logr.Logger {
	level := slog.LevelWarn
	if v, err := strconv.Atoi(os.Getenv("TEST_LOG_LEVEL")); err == nil {
		level = slog.Level(v)
	}
	return logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// needControlPlane skips (outside CI) or fails (in CI) a test when there is no control plane.
func needControlPlane(t *testing.T) {
	t.Helper()
	if noControlPlane != nil {
		testtool.Missing(t, noControlPlane.Error())
	}
}

// mutablePolicy is a controller.PolicySource a test can change.
type mutablePolicy struct {
	mu sync.Mutex
	p  *policy.Policy
}

func (m *mutablePolicy) Policy() *policy.Policy {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.p
}

func (m *mutablePolicy) set(p *policy.Policy) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.p = p
}
