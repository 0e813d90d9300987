package seed

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/webhook/inject"
)

// EtcdMetricsURL is where etcd serves its metrics, as kubeadm configures stacked etcd.
const EtcdMetricsURL = "http://127.0.0.1:2381"

// checkPorts takes the component-port lock and checks the ports on the components' address and
// on the control-plane node's.
func (r *run) checkPorts(ctx context.Context) error {
	lock, err := lockPorts(ctx, r.w.out)
	if err != nil {
		return err
	}
	r.atStop("the component-port lock", lock.unlock)
	if err := CheckPorts(); err != nil {
		return err
	}
	r.w.say("free on 127.0.0.1 (the components) and on %s (the proxy)", NodeIP)
	r.w.say("work directory %s (removed at the end)", r.dir)
	return nil
}

// startAPIServer starts etcd with its metrics listener, kube-apiserver and the webhook server,
// with deploy/base's webhook configurations pointed at it.
func (r *run) startAPIServer(ctx context.Context) error {
	cp, err := harness.Start(ctx, harness.Options{
		Assets: r.o.Assets, Inject: inject.Config{Version: "seed-e2e"}, Logger: r.o.Logger,
		Environment: func(env *envtest.Environment) {
			if env.ControlPlane.Etcd == nil {
				env.ControlPlane.Etcd = &envtest.Etcd{}
			}
			env.ControlPlane.Etcd.Configure().Set("listen-metrics-urls", EtcdMetricsURL)
			if localIPs[NodeIP] { // in a network namespace without a default route to guess it from
				env.ControlPlane.GetAPIServer().Configure().Set("advertise-address", NodeIP)
			}
		},
	})
	if err != nil {
		return err
	}
	r.cp = cp
	r.report.APIServer = cp.Config.Host
	r.atStop("the webhook server, kube-apiserver and etcd", cp.Stop)
	if r.cs, err = kubernetes.NewForConfig(cp.Config); err != nil {
		return fmt.Errorf("clientset: %w", err)
	}
	status, _, err := get(ctx, plainClient, EtcdMetricsURL+"/metrics", "")
	if err != nil {
		return fmt.Errorf("etcd metrics at %s/metrics: %w", EtcdMetricsURL, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("etcd metrics at %s/metrics: status %d", EtcdMetricsURL, status)
	}
	r.w.say("kube-apiserver %s (binaries from %s)", cp.Config.Host, r.o.Assets)
	r.w.say("etcd: --listen-metrics-urls=%s", EtcdMetricsURL)
	r.w.say("webhooks registered from deploy/base/mutating-webhook.yaml and validating-webhook.yaml")
	return nil
}

// startComponents starts kube-controller-manager, kube-scheduler and the kube-proxy stand-in.
func (r *run) startComponents(ctx context.Context) error {
	for _, c := range []component{controllerManager(), scheduler()} {
		p, err := startComponent(ctx, r.o.Assets, r.dir, r.cp.Kubeconfig, c)
		if err != nil {
			return err
		}
		r.atStop(c.name, p.stop)
		r.procs = append(r.procs, p)
		r.w.say("%s (pid %d): https://127.0.0.1:%d, %s", c.name, p.Pid(), c.port, strings.Join(c.args, " "))
	}
	r.w.say("  both: --authentication-kubeconfig and --authorization-kubeconfig: every /metrics request is a")
	r.w.say("  TokenReview and a SubjectAccessReview to kube-apiserver")
	s, err := startKubeProxyStandIn()
	if err != nil {
		return err
	}
	r.atStop("the kube-proxy stand-in", s.stop)
	r.w.say("kube-proxy: a STAND-IN HTTP server on http://127.0.0.1:10249 (real kube-proxy needs root and iptables);")
	r.w.say("  like kube-proxy it serves /metrics, /configz and /debug/pprof/ to anyone")
	return nil
}

// registerNodes registers the control-plane node and the worker, both Ready.
func (r *run) registerNodes(ctx context.Context) error {
	for _, n := range scenarioNodes() {
		if err := registerNode(ctx, r.cs, n); err != nil {
			return err
		}
	}
	if _, err := r.kubectl(ctx, "", "get", "nodes", "-o", "wide"); err != nil {
		return err
	}
	_, err := r.kubectl(ctx, "", "get", "nodes", "-o",
		"custom-columns=NAME:.metadata.name,TAINTS:.spec.taints[*].key,EFFECT:.spec.taints[*].effect")
	r.w.say("(the scenario lifted the %s taint the API server adds to new nodes, as the node lifecycle", corev1.TaintNodeNotReady)
	r.w.say(" controller does for a Ready node; that controller does not run, so they stay Ready without heartbeats)")
	return err
}

// kubectl runs the real kubectl, printing the command and its output.
func (r *run) kubectl(ctx context.Context, stdin string, args ...string) (string, error) {
	r.w.command("kubectl %s", shellWords(args))
	stdout, stderr, err := r.cp.Kubectl(ctx, stdin, args...)
	r.w.block(stdout)
	r.w.block(stderr)
	return stdout, err
}
