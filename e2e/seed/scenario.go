package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"

	"github.com/metrics-proxy/injector/e2e/harness"
)

// Names of the scenario's objects.
const (
	// Namespace is where the proxy runs; it is labelled for injection.
	Namespace = "monitoring"
	// Scraper is the service account the metrics-reader binding is for, in Namespace.
	Scraper = "prometheus"
	// Intruder is a service account without the binding, in Namespace.
	Intruder = "no-reader"
	// OptedOut is the DaemonSet that opts out of injection inside Namespace.
	OptedOut = "node-agent"
)

// Options configure Run.
type Options struct {
	// Assets is the directory with etcd, kube-apiserver, kube-controller-manager,
	// kube-scheduler and kubectl (harness.Assets).
	Assets string
	// HAProxy is the haproxy binary the kubelet runs.
	HAProxy string
	// Prometheus, when set, adds the proof with the real Prometheus and Prometheus Operator.
	Prometheus *PrometheusOptions
	// MetricsProxy is the metrics-proxy binary the kubelet runs for the proxy-cert init
	// container (the image's entrypoint); empty: built from this module into the work directory.
	MetricsProxy string
	// Out receives the step-by-step narration; io.Discard when nil.
	Out io.Writer
	// Logger receives the webhook server's logs; logr.Discard() when zero.
	Logger logr.Logger
}

// Report is what the scenario observed.
type Report struct {
	// ProxyPods and OptedOutPods map each node name to the pod of the DaemonSet bound there.
	ProxyPods, OptedOutPods map[string]string
	// Proxy is the haproxy process the kubelet ran, with its environment.
	Proxy string
	// Scrapes are the requests of the last step, in order, with their results.
	Scrapes []Scrape
	// Denial is the API server's answer to the edit of the live ConfigMap that allows everything.
	Denial string
	// Targets are Prometheus's active targets once all are up; SeedTargets with the seed's
	// all-HTTP config; Series the queries that returned a component's series.
	Targets, SeedTargets []PrometheusTarget
	Series               []string
	// Steps are the step titles with how long each took.
	Steps []StepTime
	// WorkDir is the directory that held the components' certificates and the proxy's config
	// (removed at the end); APIServer is kube-apiserver's URL.
	WorkDir, APIServer string
}

// StepTime is a step and its duration.
type StepTime struct {
	// Title is the step's heading.
	Title string
	// Took is how long the step ran.
	Took time.Duration
}

// run is one execution of the scenario: what it started, in order, to stop in reverse.
type run struct {
	o      Options
	w      *narrator
	report *Report
	dir    string
	cp     *harness.ControlPlane
	cs     kubernetes.Interface
	stops  []stopper
	token  map[string]string
	// kubelets are the proxy pods played, by node.
	kubelets map[string]*played
	// prom is Prometheus's URL.
	prom string
	// procs are the child processes, whose output a failure shows.
	procs []*process
}

// stopper stops one thing the scenario started.
type stopper struct {
	what string
	stop func()
}

// Run executes the scenario (see the package comment) and returns what it observed. Any
// expectation the seed procedure sets that is not met is an error; the report holds what was
// seen up to there. Everything Run started is stopped when it returns.
func Run(ctx context.Context, o Options) (_ *Report, err error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	r := &run{o: o, report: &Report{}, token: map[string]string{}, kubelets: map[string]*played{}}
	steps := r.steps()
	r.w = &narrator{out: o.Out, start: time.Now(), stepStart: time.Now(), total: len(steps)}
	defer r.cleanup()
	if r.dir, err = os.MkdirTemp("", "metrics-proxy-seed-"); err != nil {
		return r.report, fmt.Errorf("work directory: %w", err)
	}
	r.report.WorkDir = r.dir
	r.atStop("the work directory "+r.dir, func() { _ = os.RemoveAll(r.dir) })
	if err := os.Chmod(r.dir, 0o711); err != nil { // haproxy runs as the container's user
		return r.report, fmt.Errorf("work directory: %w", err)
	}
	for i, s := range steps {
		took := r.w.step(s.title)
		if i > 0 {
			r.report.Steps = append(r.report.Steps, StepTime{Title: steps[i-1].title, Took: took})
		}
		if err := s.do(ctx); err != nil {
			if ctx.Err() != nil {
				return r.report, fmt.Errorf("%s: %w", s.title, errors.Join(ctx.Err(), err))
			}
			r.showOutputs()
			return r.report, fmt.Errorf("%s: %w", s.title, err)
		}
	}
	r.report.Steps = append(r.report.Steps, StepTime{Title: steps[len(steps)-1].title, Took: time.Since(r.w.stepStart)})
	r.w.heading("Done in %.1fs: the seed procedure works end to end", time.Since(r.w.start).Seconds())
	return r.report, nil
}

// showOutputs prints the end of every child process's output, to diagnose a failure.
func (r *run) showOutputs() {
	for _, p := range r.procs {
		out := p.out.String()
		if lines := strings.Split(out, "\n"); len(lines) > outputLines {
			out = strings.Join(lines[len(lines)-outputLines:], "\n")
		}
		r.w.heading("The last lines of %s (pid %d)", p.name, p.Pid())
		r.w.block(out)
	}
}

// outputLines is how many lines of each process's output a failure shows.
const outputLines = 30

// atStop registers what cleanup stops, in reverse order of registration.
func (r *run) atStop(what string, stop func()) { r.stops = append(r.stops, stopper{what, stop}) }

// cleanup stops everything the scenario started, the last started first.
func (r *run) cleanup() {
	if len(r.stops) == 0 {
		return
	}
	var names []string
	for i := len(r.stops) - 1; i >= 0; i-- {
		names = append(names, r.stops[i].what)
	}
	r.w.heading("Stopping %s", strings.Join(names, ", "))
	for i := len(r.stops) - 1; i >= 0; i-- {
		r.stops[i].stop()
	}
	r.stops = nil
}

// step is one numbered step.
type step struct {
	title string
	do    func(context.Context) error
}

func (r *run) steps() []step {
	steps := []step{
		{"Check that the component ports 10249, 10257, 10259 and 2381 are free", r.checkPorts},
		{"Start etcd (metrics on 127.0.0.1:2381), kube-apiserver and the metrics-proxy webhook", r.startAPIServer},
		{"Start kube-controller-manager (127.0.0.1:10257), kube-scheduler (127.0.0.1:10259) and a kube-proxy stand-in (127.0.0.1:10249)", r.startComponents},
		{"Register two nodes, both Ready", r.registerNodes},
		{"Enable injection in namespace " + Namespace + " and apply what `metrics-proxy render` prints", r.applyRender},
		{"The DaemonSet the API server stored: the webhook completed the stub", r.showDaemonSet},
		{"Counter-check: a DaemonSet that opts out, with its own container and no toleration", r.applyOptedOut},
		{"The daemonset controller creates the pods, the scheduler binds them", r.waitPods},
		{"Play the kubelet of both nodes for their proxy pod: the proxy-cert init container, then the real haproxy on the pod's config", r.playKubelet},
		{"Scrape as the seed procedure does, with service-account tokens, through the proxies on " + NodeIP + " (TLS on 10257 and 10259) and " + WorkerIP, r.scrape},
		{"Edit the live ConfigMap: `http-request allow` before the /metrics deny", r.tamper},
	}
	if r.o.Prometheus != nil {
		steps = append(steps, r.prometheusSteps()...)
	}
	return steps
}
