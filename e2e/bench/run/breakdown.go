package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/metrics-proxy/injector/e2e/bench"
)

// The metrics the breakdown reads: kube-apiserver's own histograms of each create, of admission
// and its plugins, of each webhook call and of etcd; serve's of its handlers and its API reads.
var metricPrefixes = []string{"apiserver_request_duration_seconds_", "apiserver_admission_", "etcd_request_duration_seconds_",
	"controller_runtime_webhook_latency_seconds_", "rest_client_request"}

// metricsSnapshot is the metrics of kube-apiserver and of serve at one moment.
type metricsSnapshot struct{ api, serve []bench.Sample }

// breakdown accumulates the growth of the metrics over the measured creates of each scenario.
type breakdown struct {
	api   *http.Client
	host  string
	serve string
	// stages by scenario, then by stage name.
	stages map[string]map[string]*stageSum
	order  map[string][]string
}

type stageSum struct {
	source     string
	sum, count float64
	countOnly  bool
}

func newBreakdown(cfg *rest.Config, serveMetrics string) (*breakdown, error) {
	c, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("API server metrics client: %w", err)
	}
	return &breakdown{api: c, host: strings.TrimSuffix(cfg.Host, "/"), serve: "http://" + serveMetrics + "/metrics",
		stages: map[string]map[string]*stageSum{}, order: map[string][]string{}}, nil
}

func (b *breakdown) snapshot(ctx context.Context) (metricsSnapshot, error) {
	var s metricsSnapshot
	var err error
	if s.api, err = getSamples(ctx, b.api, b.host+"/metrics"); err != nil {
		return s, err
	}
	s.serve, err = getSamples(ctx, http.DefaultClient, b.serve)
	return s, err
}

func getSamples(ctx context.Context, c *http.Client, url string) ([]bench.Sample, error) {
	return getSamplesWith(ctx, c, url, metricPrefixes...)
}

// getSamplesWith reads the samples at url whose metric name has one of the prefixes.
func getSamplesWith(ctx context.Context, c *http.Client, url string, prefixes ...string) ([]bench.Sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics %s: status %d", url, resp.StatusCode)
	}
	return bench.ParseSamples(resp.Body, prefixes...)
}

// add records the growth from before to after as scenario's.
func (b *breakdown) add(scenario string, before, after metricsSnapshot) {
	if b.stages[scenario] == nil {
		b.stages[scenario] = map[string]*stageSum{}
	}
	record := func(stage, source string, ss0, ss1 []bench.Sample, metric string, match map[string]string) {
		sum := bench.SumSamples(ss1, metric+"_sum", match) - bench.SumSamples(ss0, metric+"_sum", match)
		count := bench.SumSamples(ss1, metric+"_count", match) - bench.SumSamples(ss0, metric+"_count", match)
		if count <= 0 {
			return
		}
		st := b.stages[scenario][stage]
		if st == nil {
			st = &stageSum{source: source}
			b.stages[scenario][stage] = st
			b.order[scenario] = append(b.order[scenario], stage)
		}
		st.sum += sum
		st.count += count
	}
	const api, srv = "kube-apiserver", "metrics-proxy serve"
	record("the create (POST daemonsets), request to response", api, before.api, after.api,
		"apiserver_request_duration_seconds", map[string]string{"verb": "POST", "resource": "daemonsets"})
	record("mutating admission, all of it", api, before.api, after.api,
		"apiserver_admission_step_admission_duration_seconds", map[string]string{"type": "admit", "operation": "CREATE"})
	record("validating admission, all of it", api, before.api, after.api,
		"apiserver_admission_step_admission_duration_seconds", map[string]string{"type": "validate", "operation": "CREATE"})
	for _, plugin := range []string{"MutatingAdmissionPolicy", "MutatingAdmissionWebhook", "ValidatingAdmissionPolicy", "ValidatingAdmissionWebhook"} {
		record("admission plugin "+plugin, api, before.api, after.api,
			"apiserver_admission_controller_admission_duration_seconds", map[string]string{"name": plugin, "operation": "CREATE"})
	}
	for _, name := range bench.WebhookNames(after.api, "apiserver_admission_webhook_admission_duration_seconds_count", "name") {
		record("webhook call "+name+" (TLS, HTTP, JSON both ways, the handler)", api, before.api, after.api,
			"apiserver_admission_webhook_admission_duration_seconds", map[string]string{"name": name, "operation": "CREATE"})
	}
	record("etcd create", api, before.api, after.api, "etcd_request_duration_seconds", map[string]string{"operation": "create"})
	for _, path := range bench.WebhookNames(after.serve, "controller_runtime_webhook_latency_seconds_count", "webhook") {
		record("handler "+path+" (from request to response, inside serve)", srv, before.serve, after.serve,
			"controller_runtime_webhook_latency_seconds", map[string]string{"webhook": path})
	}
	record("serve's API reads (GET)", srv, before.serve, after.serve, "rest_client_request_duration_seconds", map[string]string{"verb": "GET"})
	// controller-runtime registers client-go's request counter only: how many, not how long.
	if n := bench.SumSamples(after.serve, "rest_client_requests_total", map[string]string{"method": "GET"}) -
		bench.SumSamples(before.serve, "rest_client_requests_total", map[string]string{"method": "GET"}); n > 0 {
		const stage = "serve's API requests (GET; count only)"
		st := b.stages[scenario][stage]
		if st == nil {
			st = &stageSum{source: srv, countOnly: true}
			b.stages[scenario][stage] = st
			b.order[scenario] = append(b.order[scenario], stage)
		}
		st.count += n
	}
}

// result is the breakdown of each scenario per create, creates[scenario] being its count.
func (b *breakdown) result(creates map[string]int) []bench.Breakdown {
	var out []bench.Breakdown
	keys := make([]string, 0, len(b.stages))
	for k := range b.stages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := creates[k]
		if n == 0 {
			continue
		}
		bd := bench.Breakdown{Scenario: k, Creates: n}
		for _, stage := range b.order[k] {
			st := b.stages[k][stage]
			bd.Rows = append(bd.Rows, bench.BreakdownRow{Stage: stage, Source: st.source, CountOnly: st.countOnly,
				PerCreate: time.Duration(st.sum / float64(n) * float64(time.Second)), Calls: st.count / float64(n)})
		}
		out = append(out, bd)
	}
	return out
}
