package seed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// PrometheusOptions are the real Prometheus parts of the run (make prometheus builds them).
type PrometheusOptions struct {
	// Prometheus and Operator are the prometheus and prometheus-operator binaries.
	Prometheus, Operator string
	// CRDs is the directory with the Operator's CustomResourceDefinitions (its module's
	// example/prometheus-operator-crd).
	CRDs string
}

// PrometheusWait bounds each wait on the operator and on Prometheus.
const PrometheusWait = 90 * time.Second

// PrometheusBinaries finds the Prometheus parts in assets (bin/) and the Operator's CRDs in the
// module cache, through hack/tools/prometheus-operator; the error says how to get what is missing.
func PrometheusBinaries(assets string) (*PrometheusOptions, error) {
	o := &PrometheusOptions{Prometheus: filepath.Join(assets, "prometheus"), Operator: filepath.Join(assets, "prometheus-operator")}
	for _, b := range []string{o.Prometheus, o.Operator} {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("%s missing: run make prometheus (hack/build-control-plane.sh prometheus prometheus-operator)", b)
		}
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus-operator/prometheus-operator")
	cmd.Dir = filepath.Join(moduleRoot(), "hack", "tools", "prometheus-operator")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("the Prometheus Operator's module (for its CRDs): %w", err)
	}
	o.CRDs = filepath.Join(strings.TrimSpace(string(out)), "example", "prometheus-operator-crd")
	if _, err := os.Stat(o.CRDs); err != nil {
		return nil, fmt.Errorf("the Prometheus Operator's CRDs: %w", err)
	}
	return o, nil
}

// prometheusSteps are the steps of the Prometheus proof.
func (r *run) prometheusSteps() []step {
	return []step{
		{"Install the Prometheus Operator's CRDs and start the real Operator", r.startOperator},
		{"kube-prometheus-stack's defaults: its Services and ServiceMonitors, the component pods as the kubelet shows them, a Prometheus and the mixins' alerts", r.applyKPS},
		{"Play the kubelet of the Prometheus pod: the real Prometheus on the configuration the Operator wrote", r.startPrometheus},
		{"Prometheus's view: every target up through the proxies, one real series per component, no alert pending", r.prometheusView},
		{"Counter-check: the seed's all-HTTP config leaves kube-controller-manager and kube-scheduler down with a TLS error", r.seedConfigDown},
	}
}

func (r *run) startOperator(ctx context.Context) error {
	r.w.command("kubectl apply --server-side -f %s", r.o.Prometheus.CRDs)
	if _, stderr, err := r.cp.Kubectl(ctx, "", "apply", "--server-side", "-f", r.o.Prometheus.CRDs); err != nil {
		return fmt.Errorf("CRDs: %w: %s", err, stderr)
	}
	// The Operator turns off the controllers of CRDs it does not find served when it starts.
	if _, stderr, err := r.cp.Kubectl(ctx, "", "wait", "--for=condition=Established", "--timeout=60s", "-f", r.o.Prometheus.CRDs); err != nil {
		return fmt.Errorf("CRDs established: %w: %s", err, stderr)
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	args := []string{"--web.listen-address=" + addr, "--log-level=info", "--kubelet-service="}
	p, err := startProcess("prometheus-operator", r.o.Prometheus.Operator, args, []string{"KUBECONFIG=" + r.cp.Kubeconfig}, nil)
	if err != nil {
		return err
	}
	r.atStop("prometheus-operator", p.stop)
	r.procs = append(r.procs, p)
	if err := p.waitFor(ctx, "prometheus-operator healthy", PrometheusWait, func(ctx context.Context) error {
		status, _, err := get(ctx, plainClient, "http://"+addr+"/healthz", "")
		if err == nil && status != 200 {
			err = fmt.Errorf("status %d", status)
		}
		return err
	}); err != nil {
		return err
	}
	r.w.say("prometheus-operator (pid %d) %s, KUBECONFIG=<the scenario's admin kubeconfig>", p.Pid(), strings.Join(args, " "))
	return nil
}

func (r *run) applyKPS(ctx context.Context) error {
	if err := r.applyComponentPods(ctx); err != nil {
		return err
	}
	objects := KPSObjects() + KPSPrometheusObjects() + "---\n" + KPSRules()
	r.w.say("kube-prometheus-stack 88.5.3's Services and ServiceMonitors with default values (release %s):", KPSRelease)
	r.w.block(KPSObjects())
	r.w.command("kubectl apply -f -   # the above, KPS's Prometheus (intervals 5s) and a PrometheusRule with the mixins' alerts")
	if _, err := r.kubectl(ctx, objects, "apply", "-f", "-"); err != nil {
		return err
	}
	// The endpointslice controller of kube-controller-manager fills the headless Services.
	want := map[string]int{}
	for _, t := range KPSTargets {
		want[t.Service()] = 1
	}
	want[kpsFullname+"-kube-proxy"] = 2
	err := waitUntil(ctx, PrometheusWait, func(ctx context.Context) error { return ReadyEndpoints(ctx, r.cs, want) })
	if err != nil {
		_, _ = r.kubectl(ctx, "", "get", "endpointslices,services", "-n", "kube-system", "-o", "yaml")
		return err
	}
	_, err = r.kubectl(ctx, "", "get", "endpointslices", "-n", "kube-system")
	return err
}

// promSecret and promRules are what the Operator writes for the Prometheus resource.
func promSecret() string { return "prometheus-" + KPSPrometheus }
func promRules() string  { return "prometheus-" + KPSPrometheus + "-rulefiles-0" }

func (r *run) startPrometheus(ctx context.Context) error {
	config, rules, err := OperatorOutput(ctx, r.cs)
	if err != nil {
		return err
	}
	r.w.say("the Operator wrote Secret %s (prometheus.yaml.gz, %d bytes unzipped) and ConfigMap %s", promSecret(), len(config), promRules())
	r.w.block(excerpt(string(config), "job_name: serviceMonitor/"+Namespace+"/"+kpsFullname+"-kube-controller-manager/0", 40))

	token, _, err := r.cp.Kubectl(ctx, "", "create", "token", Scraper, "-n", Namespace, "--duration=1h")
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	pod := PrometheusPod{Binary: r.o.Prometheus.Prometheus, Dir: filepath.Join(r.dir, "kubelet", KPSPrometheus+"-0"),
		Config: config, Rules: rules, Token: token, CA: r.cp.Config.CAData, Addr: addr}
	path, argv, err := pod.Command()
	if err != nil {
		return err
	}
	args := pod.Args(filepath.Join(pod.Dir, "data"))
	host, port, _ := net.SplitHostPort(r.cp.Config.Host[len("https://"):])
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "KUBERNETES_SERVICE_HOST=" + host, "KUBERNETES_SERVICE_PORT=" + strings.TrimSuffix(port, "/")}
	p, err := startProcess("prometheus", path, argv, env, nil)
	if err != nil {
		return err
	}
	r.atStop("prometheus", p.stop)
	r.procs = append(r.procs, p)
	r.prom = "http://" + addr
	if err := p.waitFor(ctx, "prometheus ready", PrometheusWait, PrometheusAPI{URL: r.prom}.Ready); err != nil {
		return err
	}
	r.w.say("prometheus (pid %d) %s", p.Pid(), strings.Join(args, " "))
	r.w.say("  in the pod's mount namespace: the service-account token of %s/%s (TokenRequest) and the API server's CA at", Namespace, Scraper)
	r.w.say("  /var/run/secrets/kubernetes.io/serviceaccount, the configuration at /etc/prometheus/config_out, the rules at")
	r.w.say("  /etc/prometheus/rules/%s; KUBERNETES_SERVICE_HOST=%s: discovery through the API server", promRules(), host)
	return nil
}

func (r *run) targets(ctx context.Context) ([]PrometheusTarget, error) {
	return PrometheusAPI{URL: r.prom}.Targets(ctx)
}

// wantTargets are the targets KPS's defaults give on the scenario's two nodes: every control-plane
// component on the control-plane node, kube-proxy on both.
func wantTargets() map[string]string {
	want := map[string]string{}
	for _, t := range KPSTargets {
		want[t.Job+" "+net.JoinHostPort(NodeIP, strconv.Itoa(t.Port))] = t.Job
	}
	want["kube-proxy "+net.JoinHostPort(WorkerIP, "10249")] = "kube-proxy"
	return want
}

func (r *run) prometheusView(ctx context.Context) error {
	var last []PrometheusTarget
	err := waitUntil(ctx, PrometheusWait, func(ctx context.Context) error {
		ts, err := r.targets(ctx)
		if err != nil {
			return err
		}
		last = ts
		want := wantTargets()
		for _, t := range ts {
			key := t.Job + " " + t.Instance
			if _, ok := want[key]; !ok {
				return fmt.Errorf("unexpected target %s", key)
			}
			if t.Health != "up" {
				return fmt.Errorf("target %s is %s: %s", key, t.Health, t.LastError)
			}
			delete(want, key)
		}
		if len(want) > 0 {
			return fmt.Errorf("targets missing: %v", want)
		}
		return nil
	})
	r.showTargets(last)
	if err != nil {
		return err
	}
	r.report.Targets = last
	up, err := r.query(ctx, "up")
	if err != nil {
		return err
	}
	r.w.command("curl %s/api/v1/query --data-urlencode 'query=up'", r.prom)
	for _, s := range up {
		r.w.say("  up{job=%q, instance=%q} %s", s.Metric["job"], s.Metric["instance"], s.V())
		if s.V() != "1" {
			return fmt.Errorf("up{job=%q, instance=%q} is %s", s.Metric["job"], s.Metric["instance"], s.V())
		}
	}
	if len(up) != len(wantTargets()) {
		return fmt.Errorf("%d up series, want %d", len(up), len(wantTargets()))
	}
	for _, q := range seriesQueries() {
		res, err := r.query(ctx, q)
		if err != nil {
			return err
		}
		if len(res) == 0 {
			return fmt.Errorf("no series for %s: the component's metrics did not reach Prometheus", q)
		}
		r.w.say("  %s -> %d series, e.g. %s %s", q, len(res), res[0].Metric["__name__"], res[0].V())
		r.report.Series = append(r.report.Series, q)
	}
	return r.checkAlerts(ctx, nil)
}

// seriesQueries ask for one real series of each component, scraped through the proxy.
func seriesQueries() []string {
	return []string{
		`workqueue_adds_total{job="kube-controller-manager",name="daemonset"}`,
		`scheduler_schedule_attempts_total{job="kube-scheduler"}`,
		`etcd_server_has_leader{job="kube-etcd"}`,
		StandInMetric + `{job="kube-proxy"}`,
	}
}

// checkAlerts waits until every MixinAlert is loaded and healthy, those in pending (name to
// true) pending, every other one inactive.
func (r *run) checkAlerts(ctx context.Context, pending map[string]bool) error {
	lines, err := PrometheusAPI{URL: r.prom}.AlertStates(ctx, pending)
	if err != nil {
		return err
	}
	r.w.command("curl %s/api/v1/rules?type=alert", r.prom)
	r.w.say("  %s", strings.Join(lines, ", "))
	return nil
}

func (r *run) seedConfigDown(ctx context.Context) error {
	cm, err := r.cs.CoreV1().ConfigMaps(Namespace).Get(ctx, names.ControlPlaneDaemonSet, metav1.GetOptions{})
	if err != nil {
		return err
	}
	cm.Annotations[names.TLSAnnotation] = names.TLSNone
	cm.Data[names.ConfigKey] = inject.HAProxyConfig(components.All())
	r.w.command("kubectl replace -f -   # ConfigMap %s with the seed's own haproxy.cfg (plain HTTP on every port)", names.ControlPlaneDaemonSet)
	if _, err := r.cs.CoreV1().ConfigMaps(Namespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("the seed's config: %w", err)
	}
	r.w.say("admitted: the default policy allows TLS and plain HTTP alike (frontendTLS: allowed)")
	if err := r.kubelets[ControlPlaneNode].restart(ctx); err != nil {
		return err
	}
	r.w.say("the proxy pod on %s restarted on it (what a rollout does)", ControlPlaneNode)
	var last []PrometheusTarget
	err = waitUntil(ctx, PrometheusWait, func(ctx context.Context) error {
		ts, err := r.targets(ctx)
		if err != nil {
			return err
		}
		last = ts
		for _, t := range ts {
			https := t.Job == "kube-controller-manager" || t.Job == "kube-scheduler"
			switch {
			case https && (t.Health != "down" || !strings.Contains(t.LastError, "server gave HTTP response to HTTPS client")):
				return fmt.Errorf("%s %s: %s %q", t.Job, t.Instance, t.Health, t.LastError)
			case !https && t.Health != "up":
				return fmt.Errorf("%s %s: %s %q", t.Job, t.Instance, t.Health, t.LastError)
			}
		}
		return nil
	})
	r.showTargets(last)
	if err != nil {
		return err
	}
	r.report.SeedTargets = last
	return r.checkAlerts(ctx, map[string]bool{"KubeControllerManagerInstanceUnreachable": true,
		"KubeSchedulerInstanceUnreachable": true, "TargetDown": true})
}

func (r *run) showTargets(ts []PrometheusTarget) {
	r.w.command("curl %s/api/v1/targets", r.prom)
	r.w.say("  %-24s %-18s %-7s %s", "JOB", "INSTANCE", "HEALTH", "LAST ERROR")
	for _, t := range ts {
		r.w.say("  %-24s %-18s %-7s %s", t.Job, t.Instance, t.Health, t.LastError)
	}
}

func (r *run) query(ctx context.Context, q string) ([]Sample, error) {
	return PrometheusAPI{URL: r.prom}.Query(ctx, q)
}

// waitUntil retries check every 500ms until it succeeds, at most timeout; the error is check's last.
func waitUntil(ctx context.Context, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("not after %s: %w", timeout, err)
			}
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// freeAddr returns a free loopback address.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// excerpt returns at most n lines of text from the line holding from.
func excerpt(text, from string, n int) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.Contains(l, from) {
			end := min(i+n, len(lines))
			return strings.Join(lines[i:end], "\n") + "\n[...]\n"
		}
	}
	return ""
}

// ReadyEndpoints checks once that the EndpointSlices of each Service of kube-system in want hold
// its number of ready addresses.
func ReadyEndpoints(ctx context.Context, cs kubernetes.Interface, want map[string]int) error {
	for svc, n := range want {
		slices, err := cs.DiscoveryV1().EndpointSlices("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + svc})
		if err != nil {
			return err
		}
		got := 0
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					got += len(e.Addresses)
				}
			}
		}
		if got != n {
			return fmt.Errorf("EndpointSlices of %s: %d ready addresses, want %d", svc, got, n)
		}
	}
	return nil
}
