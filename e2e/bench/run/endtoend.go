package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	kjson "sigs.k8s.io/json"

	"github.com/metrics-proxy/injector/e2e/bench"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// createTimeout bounds one create.
const createTimeout = 10 * time.Second

// stub is the DaemonSet stub: a name and `containers: []`, in namespace.
func stub(name, namespace string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{}}}}}
}

// complete is what injection makes of stub(name, namespace): what scenario (a) creates.
func complete(name, namespace string) (*appsv1.DaemonSet, error) {
	raw, err := json.Marshal(stub(name, namespace))
	if err != nil {
		return nil, fmt.Errorf("encode stub: %w", err)
	}
	out, err := inject.DaemonSetJSON(raw, inject.Config{Version: serveVersion})
	if err != nil {
		return nil, fmt.Errorf("inject stub: %w", err)
	}
	ds := &appsv1.DaemonSet{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(out, ds); err != nil {
		return nil, fmt.Errorf("decode injected stub: %w", err)
	}
	return ds, nil
}

// scenarios are the end-to-end scenarios, in the order they take turns.
func scenarios() []*bench.Scenario {
	return []*bench.Scenario{
		{Key: bench.ScenarioNone, Name: "no admission webhook or policy (the complete DaemonSet)"},
		{Key: bench.ScenarioWebhook, Name: "our mutating webhook (deploy/base/mutating-webhook.yaml)"},
		{Key: bench.ScenarioPolicy, Name: "the equivalent MutatingAdmissionPolicy"},
		{Key: bench.ScenarioValidating, Name: "our mutating and validating webhooks (all of deploy/base): the full installed path"},
		{Key: bench.ScenarioNative, Name: "the native pair: MutatingAdmissionPolicy and ValidatingAdmissionPolicy"},
	}
}

// namespaceOf is the namespace of a scenario's DaemonSets.
func namespaceOf(key string) string {
	return map[string]string{bench.ScenarioNone: "e2e-a", bench.ScenarioWebhook: "e2e-b",
		bench.ScenarioPolicy: "e2e-c", bench.ScenarioValidating: "e2e-bv", bench.ScenarioNative: "e2e-cv"}[key]
}

// runEndToEnd creates DaemonSets one at a time through kube-apiserver under each scenario's
// admission configuration, the scenarios taking turns o.rounds times, and records each create's
// latency. The webhook scenarios are served by srv, the real `metrics-proxy serve`.
func runEndToEnd(ctx context.Context, o options, cp *controlPlane, srv *server, out *bench.EndToEndFigures) error {
	out.Rounds, out.Warmup, out.Scenarios = o.rounds, o.warmup, scenarios()
	if err := createNamespaces(ctx, cp); err != nil {
		return err
	}
	cfg, err := newAdmissionConfig(cp, srv)
	if err != nil {
		return err
	}
	perRound := o.creates / o.rounds
	bd, err := newBreakdown(cp.cfg, srv.metrics)
	if err != nil {
		return err
	}
	creates := map[string]int{}
	var failed error
	for round := 1; round <= o.rounds; round++ {
		for _, s := range out.Scenarios {
			ns := namespaceOf(s.Key)
			if err := cfg.switchTo(ctx, s.Key, ns); err != nil {
				return fmt.Errorf("scenario (%s): %w", s.Key, err)
			}
			before := len(s.Samples)
			var snap metricsSnapshot
			for i := range o.warmup + perRound {
				if i == o.warmup {
					if snap, err = bd.snapshot(ctx); err != nil {
						return err
					}
				}
				ds := stub(fmt.Sprintf("ds-%d-%d", round, i), ns)
				if s.Key == bench.ScenarioNone {
					if ds, err = complete(ds.Name, ns); err != nil {
						return err
					}
				}
				d, err := timedCreate(ctx, cp.client, ds)
				switch {
				case err != nil:
					s.Errors++
					if failed == nil {
						failed = fmt.Errorf("scenario (%s): create %s/%s: %w", s.Key, ns, ds.Name, err)
					}
				case i >= o.warmup:
					s.Samples = append(s.Samples, d)
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
			after, err := bd.snapshot(ctx)
			if err != nil {
				return err
			}
			bd.add(s.Key, snap, after)
			creates[s.Key] += perRound
			s.Latency = bench.Summarize(append([]time.Duration(nil), s.Samples...))
			turn := bench.Summarize(append([]time.Duration(nil), s.Samples[before:]...))
			fmt.Printf("bench:   round %d/%d (%s) %-70s p50 %6.2f ms  p99 %6.2f ms  errors %d\n", round, o.rounds, s.Key,
				s.Name, bench.Millis(turn.P50), bench.Millis(turn.P99), s.Errors)
		}
		if round == 1 {
			out.Equivalence = equivalence(ctx, cp.client)
		}
	}
	out.Breakdown = bd.result(creates)
	if err := cfg.switchTo(ctx, bench.ScenarioNone, namespaceOf(bench.ScenarioNone)); err != nil {
		return err
	}
	return failed
}

// createNamespaces creates the scenarios' namespaces, labelled for injection, each with the
// proxy ConfigMap the stub mounts (the validating webhook requires it of a proxy DaemonSet; the
// mutating webhook hashes it).
func createNamespaces(ctx context.Context, cp *controlPlane) error {
	for _, s := range scenarios() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespaceOf(s.Key),
			Labels: map[string]string{names.NamespaceInjectionLabel: "enabled"}}}
		if err := cp.client.Create(ctx, ns); err != nil {
			return fmt.Errorf("create namespace %s: %w", ns.Name, err)
		}
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: names.DefaultConfigMap, Namespace: ns.Name,
				Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}},
			Data: map[string]string{names.ConfigKey: inject.HAProxyConfig(components.All())},
		}
		if err := cp.client.Create(ctx, cm); err != nil {
			return fmt.Errorf("create ConfigMap: %w", err)
		}
	}
	return nil
}

// timedCreate creates obj and returns how long the API server took to answer.
func timedCreate(ctx context.Context, c client.Client, obj client.Object) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, createTimeout)
	defer cancel()
	start := time.Now()
	err := c.Create(ctx, obj)
	return time.Since(start), err
}

// equivalence compares the first DaemonSet the webhook stored with the first the policy stored.
func equivalence(ctx context.Context, c client.Client) string {
	var b, p appsv1.DaemonSet
	for _, get := range []struct {
		key string
		ds  *appsv1.DaemonSet
	}{{bench.ScenarioWebhook, &b}, {bench.ScenarioPolicy, &p}} {
		key := client.ObjectKey{Namespace: namespaceOf(get.key), Name: "ds-1-0"}
		if err := c.Get(ctx, key, get.ds); err != nil {
			return fmt.Sprintf("not compared: get %s: %v", key, err)
		}
	}
	hash := b.Spec.Template.Annotations[names.ConfigHashAnnotation] // the policy hashes no ConfigMap
	delete(b.Spec.Template.Annotations, names.ConfigHashAnnotation)
	if len(b.Spec.Template.Annotations) == 0 {
		b.Spec.Template.Annotations = nil
	}
	if !reflect.DeepEqual(b.Spec, p.Spec) {
		return "**the specs differ**: webhook " + jsonOf(b.Spec) + "; policy " + jsonOf(p.Spec)
	}
	return fmt.Sprintf("identical `spec` but the pod template's config hash, which only the webhook writes (`%s`); "+
		"the status annotation differs as expected (webhook `%s`, policy `%s`).",
		hash, b.Annotations[names.StatusAnnotation], p.Annotations[names.StatusAnnotation])
}

func jsonOf(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return "`" + string(data) + "`"
}
