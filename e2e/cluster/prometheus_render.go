//go:build linux

package cluster

import (
	"context"
	"fmt"
	"io"

	"github.com/metrics-proxy/injector/e2e/seed"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/manifest"
)

// renderPrometheusObjects is a Prometheus resource that selects the ServiceMonitors `render
// --prometheus operator` prints (labelled metrics-proxy.io/job), scraping as KPS's does.
func renderPrometheusObjects() string {
	return fmt.Sprintf(`apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata:
  name: %s
  namespace: %s
spec:
  serviceAccountName: %s
  serviceMonitorSelector:
    matchExpressions: [{key: metrics-proxy.io/job, operator: Exists}]
  serviceMonitorNamespaceSelector: {}
  scrapeInterval: 5s
  evaluationInterval: 5s
  serviceDiscoveryRole: EndpointSlice
`, RenderPrometheus, seed.Namespace, seed.Scraper) + onTheHost
}

// renderPrometheus applies render's `--prometheus operator` output (its headless Services and
// ServiceMonitors beside the proxy) and a Prometheus resource selecting them; the real Operator
// writes its configuration, and a second real Prometheus on it must find every target up.
func (c *Cluster) renderPrometheus(ctx context.Context, out io.Writer, o *seed.PrometheusOptions, r *PrometheusReport) error {
	fmt.Fprintf(out, "\n$ metrics-proxy render --namespace %[1]s --scraper %[1]s/%[2]s --prometheus operator | kubectl apply -f -   # without KPS\n", seed.Namespace, seed.Scraper)
	if err := c.applyRender(ctx, "", manifest.PrometheusOperator); err != nil {
		return err
	}
	if _, _, err := c.Kubectl(ctx, renderPrometheusObjects(), "apply", "-f", "-"); err != nil {
		return err
	}
	services, monitors := map[string]int{}, []string(nil)
	for _, t := range manifest.Targets(components.All()) {
		name := "metrics-proxy-" + t.Job
		services[name], monitors = 1, append(monitors, name)
		if t.Job == "kube-proxy" {
			services[name] = len(c.Nodes)
		}
	}
	if err := c.waitEndpointSlices(ctx, out, services); err != nil {
		return err
	}
	config, err := seed.OperatorConfig(ctx, c.Client, RenderPrometheus, monitors)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "  the Operator wrote Secret prometheus-%s (%d bytes of scrape configuration)\n", RenderPrometheus, len(config))
	api, err := c.startPrometheus(ctx, out, o, RenderPrometheus, config, nil)
	if err != nil {
		return err
	}
	r.RenderTargets, err = c.waitTargets(ctx, api, upTarget)
	showTargets(out, api, r.RenderTargets)
	return err
}
