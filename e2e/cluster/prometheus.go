//go:build linux

package cluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/e2e/seed"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
)

// RenderPrometheus is the Prometheus resource that selects the ServiceMonitors of
// `metrics-proxy render --prometheus operator` (KPS's selects only its own, release: kps).
const RenderPrometheus = "metrics-proxy-render"

// onTheHost keeps the Prometheus pods the Operator's StatefulSets ask for Pending: their images
// are not on the nodes; Prometheus runs on this machine instead, on the Operator's configuration.
const onTheHost = "  nodeSelector: {metrics-proxy.io/e2e: prometheus-runs-on-the-host}\n"

// PrometheusReport is what RunPrometheus observed.
type PrometheusReport struct {
	// SeedTargets are Prometheus's targets with the seed's all-HTTP frontends (the counter-check),
	// Targets with render's default TLS frontends, RenderTargets those of the Prometheus that
	// scrapes through render's own Services and ServiceMonitors.
	SeedTargets, Targets, RenderTargets []seed.PrometheusTarget
	// Up maps "job instance" to the value of up.
	Up map[string]string
	// Series maps each of SeriesQueries to how many series it returned.
	Series map[string]int
	// Alerts are the mixin alerts' states once every target is up, SeedAlerts in the counter-check.
	Alerts, SeedAlerts []string
}

// SeriesQueries ask for one real series of each component, scraped through the proxies
// (kube-proxy's one per node).
func SeriesQueries() []string {
	return []string{
		`workqueue_adds_total{job="kube-controller-manager",name="daemonset"}`,
		`scheduler_schedule_attempts_total{job="kube-scheduler"}`,
		`etcd_server_has_leader{job="kube-etcd"}`,
		`sum by (instance) (` + KubeProxyMetric + `_count{job="kube-proxy"})`,
	}
}

// WantTargets are the targets KPS's defaults give on the cluster: every control-plane component
// on the control-plane node, kube-proxy on every node; "job instance" to the job.
func (c *Cluster) WantTargets() map[string]string {
	want := map[string]string{}
	for _, t := range seed.KPSTargets {
		if t.Job != "kube-proxy" {
			want[t.Job+" "+net.JoinHostPort(c.Nodes[0].IP, strconv.Itoa(t.Port))] = t.Job
		}
	}
	for _, n := range c.Nodes {
		want["kube-proxy "+net.JoinHostPort(n.IP, "10249")] = "kube-proxy"
	}
	return want
}

// RunPrometheus proves, after RunSeed, that kube-prometheus-stack's default scrape works through
// the proxies, narrated to out: the Operator's CRDs and the real Operator; KPS's Services and
// ServiceMonitors, its Prometheus resource and the mixins' alerts; the real endpointslice
// controller fills the Services from the nodes' mirror and kube-proxy pods; the real Prometheus
// runs on this machine (which reaches the node IPs over the cluster's bridge) on the
// configuration the Operator wrote, discovers through the API server and scrapes through the real
// haproxy on the node IPs. First with the seed's all-HTTP frontends that RunSeed applied (the
// counter-check: kube-controller-manager and kube-scheduler down with a TLS error), then with
// render's default TLS frontends (every target up, one real series per component, the alerts
// inactive); last a second Prometheus on the configuration the Operator writes for render's own
// `--prometheus operator` objects.
func (c *Cluster) RunPrometheus(ctx context.Context, out io.Writer, o *seed.PrometheusOptions) (*PrometheusReport, error) {
	r := &PrometheusReport{Up: map[string]string{}, Series: map[string]int{}}
	say := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...) }

	say("$ kubectl apply --server-side -f <the Prometheus Operator's CRDs, v0.85.0>")
	if _, _, err := c.Kubectl(ctx, "", "apply", "--server-side", "-f", o.CRDs); err != nil {
		return r, fmt.Errorf("the Operator's CRDs: %w", err)
	}
	// The Operator turns off the controllers of CRDs it does not find served when it starts.
	if _, _, err := c.Kubectl(ctx, "", "wait", "--for=condition=Established", "--timeout=60s", "-f", o.CRDs); err != nil {
		return r, fmt.Errorf("the Operator's CRDs established: %w", err)
	}
	if err := c.startOperator(ctx, out, o); err != nil {
		return r, err
	}
	say("$ kubectl apply -f -   # kube-prometheus-stack 88.5.3's default Services and ServiceMonitors, its Prometheus, the mixins' alerts")
	prom := seed.KPSPrometheusObjects() + onTheHost
	if _, _, err := c.Kubectl(ctx, seed.KPSObjects()+prom+"---\n"+seed.KPSRules(), "apply", "-f", "-"); err != nil {
		return r, err
	}
	services := map[string]int{}
	for _, t := range seed.KPSTargets {
		services[t.Service()] = 1
	}
	services[seed.KPSTargets[2].Service()] = len(c.Nodes)
	if err := c.waitEndpointSlices(ctx, out, services); err != nil {
		return r, err
	}
	config, rules, err := seed.OperatorOutput(ctx, c.Client)
	if err != nil {
		return r, err
	}
	say("  the Operator wrote Secret prometheus-%s (%d bytes of scrape configuration) and its rule files", seed.KPSPrometheus, len(config))
	api, err := c.startPrometheus(ctx, out, o, seed.KPSPrometheus, config, rules)
	if err != nil {
		return r, err
	}

	say("\nCounter-check: the seed's all-HTTP frontends (applied above) leave the HTTPS jobs down")
	if r.SeedTargets, err = c.waitTargets(ctx, api, func(t seed.PrometheusTarget) error {
		https := t.Job == "kube-controller-manager" || t.Job == "kube-scheduler"
		switch {
		case https && (t.Health != "down" || !strings.Contains(t.LastError, "server gave HTTP response to HTTPS client")):
			return fmt.Errorf("%s %s: %s %q, want down with the TLS error", t.Job, t.Instance, t.Health, t.LastError)
		case !https && t.Health != "up":
			return fmt.Errorf("%s %s: %s %q", t.Job, t.Instance, t.Health, t.LastError)
		}
		return nil
	}); err != nil {
		showTargets(out, api, r.SeedTargets)
		return r, err
	}
	showTargets(out, api, r.SeedTargets)
	if r.SeedAlerts, err = api.AlertStates(ctx, map[string]bool{"KubeControllerManagerInstanceUnreachable": true,
		"KubeSchedulerInstanceUnreachable": true, "TargetDown": true}); err != nil {
		return r, err
	}
	say("$ curl %s/api/v1/rules?type=alert\n  %s", api.URL, strings.Join(r.SeedAlerts, ", "))

	say("\n$ metrics-proxy render --namespace %[1]s --scraper %[1]s/%[2]s | kubectl apply -f -   # the default: TLS on 10257 and 10259", seed.Namespace, seed.Scraper)
	if err := c.applyRender(ctx, ""); err != nil {
		return r, err
	}
	if err := c.waitProxiesTLS(ctx, out); err != nil {
		return r, err
	}
	if r.Targets, err = c.waitTargets(ctx, api, upTarget); err != nil {
		showTargets(out, api, r.Targets)
		return r, err
	}
	showTargets(out, api, r.Targets)
	up, err := api.Query(ctx, "up")
	if err != nil {
		return r, err
	}
	say("$ curl %s/api/v1/query --data-urlencode 'query=up'", api.URL)
	for _, s := range up {
		r.Up[s.Metric["job"]+" "+s.Metric["instance"]] = s.V()
		say("  up{job=%q, instance=%q} %s", s.Metric["job"], s.Metric["instance"], s.V())
	}
	for key := range c.WantTargets() {
		if r.Up[key] != "1" {
			return r, fmt.Errorf("up for %s is %q, want 1", key, r.Up[key])
		}
	}
	for _, q := range SeriesQueries() {
		res, err := api.Query(ctx, q)
		if err != nil {
			return r, err
		}
		r.Series[q] = len(res)
		if len(res) == 0 {
			return r, fmt.Errorf("no series for %s: the component's metrics did not reach Prometheus", q)
		}
		say("  %s -> %d series, e.g. %s", q, len(res), res[0].V())
	}
	if r.Alerts, err = api.AlertStates(ctx, nil); err != nil {
		return r, err
	}
	say("$ curl %s/api/v1/rules?type=alert\n  %s", api.URL, strings.Join(r.Alerts, ", "))
	if err := c.renderPrometheus(ctx, out, o, r); err != nil {
		return r, err
	}
	return r, nil
}

// upTarget requires a target to be up.
func upTarget(t seed.PrometheusTarget) error {
	if t.Health != "up" {
		return fmt.Errorf("%s %s: %s %q", t.Job, t.Instance, t.Health, t.LastError)
	}
	return nil
}

// waitTargets waits until Prometheus has exactly WantTargets as active targets and every one
// passes check; it returns the last targets seen.
func (c *Cluster) waitTargets(ctx context.Context, api seed.PrometheusAPI, check func(seed.PrometheusTarget) error) ([]seed.PrometheusTarget, error) {
	var last []seed.PrometheusTarget
	err := seed.WaitUntil(ctx, 2*seed.PrometheusWait, func(ctx context.Context) error {
		ts, err := api.Targets(ctx)
		if err != nil {
			return err
		}
		last = ts
		want := c.WantTargets()
		for _, t := range ts {
			key := t.Job + " " + t.Instance
			if _, ok := want[key]; !ok {
				return fmt.Errorf("unexpected target %s", key)
			}
			delete(want, key)
			if err := check(t); err != nil {
				return err
			}
		}
		if len(want) > 0 {
			return fmt.Errorf("targets missing: %v", want)
		}
		return nil
	})
	return last, err
}

func showTargets(out io.Writer, api seed.PrometheusAPI, ts []seed.PrometheusTarget) {
	fmt.Fprintf(out, "$ curl %s/api/v1/targets\n", api.URL)
	fmt.Fprintf(out, "  %-24s %-20s %-7s %s\n", "JOB", "INSTANCE", "HEALTH", "LAST ERROR")
	for _, t := range ts {
		fmt.Fprintf(out, "  %-24s %-20s %-7s %s\n", t.Job, t.Instance, t.Health, t.LastError)
	}
}

// applyRender applies what `metrics-proxy render` prints for the seed's namespace and scraper
// with tls (names.TLSNone: the seed's all-HTTP frontends; "": the default) and extra flags'
// effect (prometheus: --prometheus).
func (c *Cluster) applyRender(ctx context.Context, tls string, prometheus ...string) error {
	o := manifest.RenderOptions{Namespace: seed.Namespace, ScraperNamespace: seed.Namespace, ScraperServiceAccount: seed.Scraper, TLS: tls}
	if len(prometheus) > 0 {
		o.Prometheus = prometheus[0]
	}
	docs, err := manifest.Render(o)
	if err != nil {
		return err
	}
	var rendered bytes.Buffer
	if err := manifest.Write(&rendered, docs); err != nil {
		return err
	}
	_, _, err = c.Kubectl(ctx, rendered.String(), "apply", "-f", "-")
	return err
}

// waitProxiesTLS waits until every node runs one Ready proxy pod, the control-plane node's
// re-injected with the proxy-cert init container.
func (c *Cluster) waitProxiesTLS(ctx context.Context, out io.Writer) error {
	start := time.Now()
	return poll(ctx, 3*time.Minute, nil, func(ctx context.Context) error {
		pods, err := c.Client.CoreV1().Pods(seed.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=" + names.DefaultConfigMap})
		if err != nil {
			return err
		}
		byNode := map[string]string{}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil || !ready(&p) {
				return fmt.Errorf("pod %s on %s not Ready yet", p.Name, p.Spec.NodeName)
			}
			byNode[p.Spec.NodeName] = p.Name
			if p.Spec.NodeName != ControlPlaneNode {
				continue // metrics-proxy-nodes: kube-proxy only, plain HTTP, no certificate
			}
			var cert string
			for _, ic := range p.Spec.InitContainers {
				if ic.Name == names.ProxyCertContainer {
					cert = ic.Image
				}
			}
			if cert == "" {
				return fmt.Errorf("pod %s on %s has no %s init container yet", p.Name, p.Spec.NodeName, names.ProxyCertContainer)
			}
			byNode[p.Spec.NodeName] += " (" + names.ProxyCertContainer + " runs " + cert + ")"
		}
		if len(byNode) != len(c.Nodes) || len(pods.Items) != len(c.Nodes) {
			return fmt.Errorf("%d proxy pods on %d nodes, want one on each of %d", len(pods.Items), len(byNode), len(c.Nodes))
		}
		fmt.Fprintf(out, "  %s rolled with the %s init container (%.1fs): %v\n", names.ControlPlaneDaemonSet, names.ProxyCertContainer, time.Since(start).Seconds(), byNode)
		return nil
	})
}

// waitEndpointSlices waits until the endpointslice controller has filled each Service of
// kube-system with its number of ready addresses.
func (c *Cluster) waitEndpointSlices(ctx context.Context, out io.Writer, want map[string]int) error {
	err := seed.WaitUntil(ctx, seed.PrometheusWait, func(ctx context.Context) error { return seed.ReadyEndpoints(ctx, c.Client, want) })
	if err != nil {
		return err
	}
	slices, _, err := c.Kubectl(ctx, "", "get", "endpointslices", "-n", "kube-system")
	fmt.Fprintf(out, "$ kubectl get endpointslices -n kube-system   # the real endpointslice controller's\n%s", indent(slices))
	return err
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}

// startOperator starts the real Prometheus Operator on this machine with the admin kubeconfig.
func (c *Cluster) startOperator(ctx context.Context, out io.Writer, o *seed.PrometheusOptions) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	args := []string{"--web.listen-address=" + addr, "--log-level=info", "--kubelet-service="}
	p, err := c.start("prometheus-operator", append([]string{"/usr/bin/env", "KUBECONFIG=" + c.Kubeconfig, o.Operator}, args...)...)
	if err != nil {
		return err
	}
	if err := p.waitFor(ctx, "prometheus-operator healthy", seed.PrometheusWait, func(ctx context.Context) error {
		return seed.PrometheusAPI{URL: "http://" + addr}.Get(ctx, "/healthz")
	}); err != nil {
		return err
	}
	fmt.Fprintf(out, "  prometheus-operator (pid %d) %s\n", p.Pid(), strings.Join(args, " "))
	return nil
}

// startPrometheus runs the real Prometheus on this machine as the pod of the Prometheus resource
// name would run: the Operator's configuration and rules, the scraper's token and the cluster's
// CA in a private mount namespace, the API server as KUBERNETES_SERVICE_HOST.
func (c *Cluster) startPrometheus(ctx context.Context, out io.Writer, o *seed.PrometheusOptions, name string, config []byte, rules map[string]string) (seed.PrometheusAPI, error) {
	token, err := c.Token(ctx, seed.Scraper)
	if err != nil {
		return seed.PrometheusAPI{}, err
	}
	ca := c.Config.CAData
	if len(ca) == 0 {
		if ca, err = os.ReadFile(c.Config.CAFile); err != nil {
			return seed.PrometheusAPI{}, fmt.Errorf("the cluster's CA: %w", err)
		}
	}
	addr, err := freeAddr()
	if err != nil {
		return seed.PrometheusAPI{}, err
	}
	pod := seed.PrometheusPod{Binary: o.Prometheus, Dir: filepath.Join(c.dir, "prometheus", name), Config: config, Rules: rules,
		Token: token, CA: ca, Addr: addr}
	path, argv, err := pod.Command()
	if err != nil {
		return seed.PrometheusAPI{}, err
	}
	p, err := c.start("prometheus-"+name, append([]string{"/usr/bin/env", "KUBERNETES_SERVICE_HOST=" + c.Nodes[0].IP,
		"KUBERNETES_SERVICE_PORT=" + strconv.Itoa(APIServerPort), path}, argv...)...)
	if err != nil {
		return seed.PrometheusAPI{}, err
	}
	api := seed.PrometheusAPI{URL: "http://" + addr}
	if err := p.waitFor(ctx, "prometheus ready", seed.PrometheusWait, api.Ready); err != nil {
		return api, err
	}
	fmt.Fprintf(out, "  prometheus (pid %d) on this machine for %s: the Operator's configuration, the token of %s/%s, KUBERNETES_SERVICE_HOST=%s\n",
		p.Pid(), name, seed.Namespace, seed.Scraper, c.Nodes[0].IP)
	return api, nil
}

// freeAddr returns a free loopback address of this machine.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
