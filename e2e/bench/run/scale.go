package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/e2e/bench"
	"github.com/metrics-proxy/injector/webhook/names"
)

// scaleNamespaces spread the scale part's objects; each is enabled for injection.
const scaleNamespaces = 10

// scaleBaseline is the namespace of the baseline creates: not enabled for injection, so no
// webhook of ours is called for the plain DaemonSets created there.
const scaleBaseline = "scale-baseline"

// runScale grows the cluster in steps to o.scaleDaemonSets proxy DaemonSets (each with its own
// proxy ConfigMap, filled by the webhook) and o.scaleConfigMaps ConfigMaps in all, created
// through the full admission path, and at each step reads serve's resident memory, times one
// `metrics-proxy audit` pass and o.scaleCreates DaemonSet creates through the full path.
func runScale(ctx context.Context, o options, bins programs, cp *controlPlane, srv *server, out *bench.ScaleFigures) error {
	cfg, err := newAdmissionConfig(cp, srv)
	if err != nil {
		return err
	}
	probe := namespaceOf(bench.ScenarioValidating)
	if err := cfg.switchTo(ctx, bench.ScenarioValidating, probe); err != nil {
		return err
	}
	if err := cp.client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: scaleBaseline}}); err != nil {
		return fmt.Errorf("create namespace %s: %w", scaleBaseline, err)
	}
	for i := range scaleNamespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("scale-%d", i),
			Labels: map[string]string{names.NamespaceInjectionLabel: "enabled"}}}
		if err := cp.client.Create(ctx, ns); err != nil {
			return fmt.Errorf("create namespace %s: %w", ns.Name, err)
		}
	}
	out.Steps = o.scaleSteps
	made := struct{ ds, cm int }{}
	for step := 0; step <= o.scaleSteps; step++ {
		wantDS, wantCM := o.scaleDaemonSets*step/o.scaleSteps, o.scaleConfigMaps*step/o.scaleSteps
		start := time.Now()
		if err := grow(ctx, cp, made.ds, wantDS, made.cm, wantCM); err != nil {
			return err
		}
		growth := time.Since(start)
		made.ds, made.cm = wantDS, wantCM
		p := bench.ScalePoint{Growth: growth}
		// The cluster's totals: the end-to-end part's DaemonSets are there from the start.
		var dss appsv1.DaemonSetList
		var cms corev1.ConfigMapList
		if err := cp.client.List(ctx, &dss); err != nil {
			return fmt.Errorf("list DaemonSets: %w", err)
		}
		if err := cp.client.List(ctx, &cms); err != nil {
			return fmt.Errorf("list ConfigMaps: %w", err)
		}
		p.DaemonSets, p.ConfigMaps = len(dss.Items), len(cms.Items)
		time.Sleep(settle) // let serve's caches and controllers catch up
		if p.RSS, err = bench.RSS(srv.pid()); err != nil {
			return err
		}
		if p.Audit, p.AuditFindings, err = auditPass(ctx, bins, cp); err != nil {
			return err
		}
		samples, baseline, err := timedCreatesAtScale(ctx, cp, step, o.scaleCreates, probe)
		if err != nil {
			return err
		}
		p.Create, p.Baseline = bench.Summarize(samples), bench.Summarize(baseline)
		out.Points = append(out.Points, p)
		fmt.Printf("bench:   scale %5d DaemonSets %5d ConfigMaps: serve %.1f MiB, audit %.2f s, create p50 %.2f ms p99 %.2f ms, without webhooks p50 %.2f ms (grown in %.1f s)\n",
			p.DaemonSets, p.ConfigMaps, float64(p.RSS)/bench.MiB, p.Audit.Seconds(), bench.Millis(p.Create.P50), bench.Millis(p.Create.P99),
			bench.Millis(p.Baseline.P50), growth.Seconds())
	}
	return cfg.switchTo(ctx, bench.ScenarioNone, namespaceOf(bench.ScenarioNone))
}

// timedCreatesAtScale times n DaemonSet creates through the full path (the stub, in namespace
// probe) and n of the same DaemonSet complete but plain (no label or annotation of ours), in a
// namespace not enabled for injection, where no webhook of ours is called: the API server's own
// cost at this scale. The two take turns, so that both see the same cluster.
func timedCreatesAtScale(ctx context.Context, cp *controlPlane, step, n int, probe string) (full, baseline []time.Duration, err error) {
	plain, err := complete("plain", scaleBaseline)
	if err != nil {
		return nil, nil, err
	}
	plain.Labels, plain.Annotations = nil, nil
	for i := range n {
		name := fmt.Sprintf("scale-%d-%d", step, i)
		d, err := timedCreate(ctx, cp.client, stub(name, probe))
		if err != nil {
			return nil, nil, fmt.Errorf("create at scale: %w", err)
		}
		full = append(full, d)
		ds := plain.DeepCopy()
		ds.Name = name
		if d, err = timedCreate(ctx, cp.client, ds); err != nil {
			return nil, nil, fmt.Errorf("create without webhooks at scale: %w", err)
		}
		baseline = append(baseline, d)
	}
	return full, baseline, nil
}

// grow creates DaemonSets fromDS..toDS (each after its proxy ConfigMap) and plain ConfigMaps up to
// toCM in all, eight at a time.
func grow(ctx context.Context, cp *controlPlane, fromDS, toDS, fromCM, toCM int) error {
	type job func(context.Context) error
	jobs := make(chan job)
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := j(ctx); err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	plainFrom := max(fromCM-fromDS, 0)
	plainTo := max(toCM-toDS, 0)
	for i := fromDS; i < toDS && failed.Load() == nil; i++ {
		ns := fmt.Sprintf("scale-%d", i%scaleNamespaces)
		name := fmt.Sprintf("proxy-%d", i)
		jobs <- func(ctx context.Context) error {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
				Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}}
			if err := cp.client.Create(ctx, cm); err != nil {
				return fmt.Errorf("create ConfigMap %s/%s: %w", ns, name, err)
			}
			ds := stub(name, ns)
			ds.Annotations = map[string]string{names.ConfigMapAnnotation: name}
			if _, err := timedCreate(ctx, cp.client, ds); err != nil {
				return fmt.Errorf("create DaemonSet %s/%s: %w", ns, name, err)
			}
			return nil
		}
	}
	for i := plainFrom; i < plainTo && failed.Load() == nil; i++ {
		ns := fmt.Sprintf("scale-%d", i%scaleNamespaces)
		name := fmt.Sprintf("settings-%d", i)
		jobs <- func(ctx context.Context) error {
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Data: map[string]string{"settings.yaml": strings.Repeat("key: value\n", 20)}}
			if err := cp.client.Create(ctx, cm); err != nil {
				return fmt.Errorf("create ConfigMap %s/%s: %w", ns, name, err)
			}
			return nil
		}
	}
	close(jobs)
	wg.Wait()
	if err := failed.Load(); err != nil {
		return *err
	}
	return ctx.Err()
}

// auditPass runs `metrics-proxy audit -o json` once against the control plane and returns how long
// it took and how many findings it printed (exit 1 means findings, not failure).
func auditPass(ctx context.Context, bins programs, cp *controlPlane) (time.Duration, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bins.serve, "audit", "-o", "json")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cp.kubeconfig)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	stdout, err := cmd.Output()
	took := time.Since(start)
	if exit, ok := err.(*exec.ExitError); ok && exit.ExitCode() == 1 {
		err = nil
	}
	if err != nil {
		return took, 0, fmt.Errorf("metrics-proxy audit: %w: %s", err, stderr.String())
	}
	return took, strings.Count(string(stdout), `"reason"`), nil
}
