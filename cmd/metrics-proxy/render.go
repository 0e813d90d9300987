package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/manifest"
)

// newRenderCommand is `metrics-proxy render`.
func newRenderCommand() *cobra.Command {
	var list, namespace, scraper string
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print the whole seed setup: proxy ConfigMap, DaemonSet stub, metrics-reader ClusterRole and binding",
		Example: "  metrics-proxy render --namespace monitoring --scraper monitoring/prometheus | kubectl apply -f -\n" +
			"  metrics-proxy render --components kube-scheduler,etcd",
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
				Components: cs, Namespace: namespace, ScraperNamespace: ns, ScraperServiceAccount: sa})
			if err != nil {
				return err
			}
			return manifest.Write(cmd.OutOrStdout(), docs)
		},
	}
	cmd.Flags().StringVar(&list, "components", components.Join(components.All()), "comma list of components to proxy")
	cmd.Flags().StringVar(&namespace, "namespace", "default", "namespace of the ConfigMap and the DaemonSet")
	cmd.Flags().StringVar(&scraper, "scraper", "default/default", "NAMESPACE/SERVICEACCOUNT that may read the metrics")
	return cmd
}
