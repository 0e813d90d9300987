package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/manifest"
)

// newRenderCommand is `metrics-proxy render`.
func newRenderCommand() *cobra.Command {
	var list, namespace, scraper, tls, tlsSecret, prometheus string
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print the whole setup: the control-plane and nodes proxies (ConfigMap, DaemonSet stub), metrics-reader ClusterRole and binding",
		Long: `render prints the seed setup, split by node role: metrics-proxy-control-plane (on control-plane
nodes, every component) and metrics-proxy-nodes (every other node, kube-proxy only), each a
ConfigMap with its generated haproxy.cfg and a DaemonSet stub the webhook completes; the
metrics-reader ClusterRole and its binding. Frontends of kube-controller-manager and kube-scheduler
terminate TLS by default, as kube-prometheus-stack scrapes them (--tls). With kube-prometheus-stack
nothing else is needed; --prometheus adds what a Prometheus without it needs.`,
		Example: "  metrics-proxy render --namespace monitoring --scraper monitoring/prometheus | kubectl apply -f -\n" +
			"  metrics-proxy render --components kube-proxy,kube-controller-manager,kube-scheduler   # external etcd\n" +
			"  metrics-proxy render --tls none                      # the seed's all-HTTP proxy\n" +
			"  metrics-proxy render --prometheus operator           # + Services and ServiceMonitors",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, err := components.Parse(list)
			if err != nil {
				return fmt.Errorf("--components: %w", err)
			}
			ns, sa, err := manifest.ParseScraper(scraper)
			if err != nil {
				return fmt.Errorf("--scraper: %w", err)
			}
			docs, err := manifest.Render(manifest.RenderOptions{
				Components: cs, Namespace: namespace, ScraperNamespace: ns, ScraperServiceAccount: sa,
				TLS: tls, TLSSecret: tlsSecret, Prometheus: prometheus})
			if err != nil {
				return err
			}
			return manifest.Write(cmd.OutOrStdout(), docs)
		},
	}
	cmd.Flags().StringVar(&list, "components", components.Join(components.All()), "comma list of components to proxy")
	cmd.Flags().StringVar(&namespace, "namespace", "default", "namespace of the ConfigMap and the DaemonSet")
	cmd.Flags().StringVar(&scraper, "scraper", "default/default", "NAMESPACE/SERVICEACCOUNT that may read the metrics")
	cmd.Flags().StringVar(&tls, "tls", "", `components whose frontend terminates TLS, or "none"; default kube-controller-manager,kube-scheduler`)
	cmd.Flags().StringVar(&tlsSecret, "tls-secret", "", "Secret (tls.crt, tls.key) the TLS frontends serve; default a per-node certificate made at pod start")
	cmd.Flags().StringVar(&prometheus, "prometheus", "", manifest.PrometheusOperator+": add headless Services and ServiceMonitors; "+manifest.PrometheusScrapeConfig+": add a scrape config (kubernetes_sd_configs) in a ConfigMap")
	return cmd
}
