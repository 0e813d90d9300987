package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// newRenderCommand is `metrics-proxy render`.
func newRenderCommand() *cobra.Command {
	var list, namespace, scraper, tls, tlsSecret, prometheus, policyFile, issuer string
	var certDNS, certIPs []string
	var createNamespace bool
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print the whole setup: the control-plane and nodes proxies (ConfigMap, DaemonSet stub), metrics-reader ClusterRole and binding",
		Long: `render prints the seed setup, split by node role: metrics-proxy-control-plane (on control-plane
nodes, every component) and metrics-proxy-nodes (every other node, kube-proxy only), each a
ConfigMap with its generated haproxy.cfg and a DaemonSet stub the webhook completes; the
metrics-reader ClusterRole and its binding. The proxies go to a namespace of their own,
metrics-proxies by default, printed first (Pod Security privileged, as host-network pods need);
the stubs opt in by their own label, so no namespace needs injection enabled. With --policy the
output complies with that policy: its components, allowedPaths (also the paths metrics-reader may
GET), allowedMethods and frontendTLS. Frontends of kube-controller-manager and kube-scheduler
terminate TLS by default, as kube-prometheus-stack scrapes them (--tls). With kube-prometheus-stack
nothing else is needed; --prometheus adds what a Prometheus without it needs.`,
		Example: "  metrics-proxy render --scraper monitoring/prometheus | kubectl apply -f -\n" +
			"  metrics-proxy render --policy policy.yaml            # what that policy allows\n" +
			"  metrics-proxy render --components kube-proxy,kube-controller-manager,kube-scheduler   # external etcd\n" +
			"  metrics-proxy render --tls none                      # the seed's all-HTTP proxy\n" +
			"  metrics-proxy render --prometheus operator           # + Services and ServiceMonitors\n" +
			"  metrics-proxy render --tls-secret metrics-proxy-tls --cert-manager-issuer ClusterIssuer/my-ca   # + its Certificate",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var cs []components.Component
			if cmd.Flags().Changed("components") {
				var err error
				if cs, err = components.Parse(list); err != nil {
					return fmt.Errorf("--components: %w", err)
				}
			}
			var p *policy.Policy
			if policyFile != "" {
				var err error
				if p, err = loadPolicy(policyFile); err != nil {
					return err
				}
			}
			if !cmd.Flags().Changed("create-namespace") {
				createNamespace = !cmd.Flags().Changed("namespace")
			}
			ns, sa, err := manifest.ParseScraper(scraper)
			if err != nil {
				return fmt.Errorf("--scraper: %w", err)
			}
			o := manifest.RenderOptions{Components: cs, Namespace: namespace, ScraperNamespace: ns, ScraperServiceAccount: sa,
				TLS: tls, TLSSecret: tlsSecret, Prometheus: prometheus, CreateNamespace: createNamespace, Policy: p}
			switch {
			case issuer != "":
				kind, name, err := manifest.ParseIssuer(issuer)
				if err != nil {
					return fmt.Errorf("--cert-manager-issuer: %w", err)
				}
				o.CertManager = &manifest.CertManager{Issuer: name, IssuerKind: kind, DNSNames: certDNS, IPAddresses: certIPs}
			case len(certDNS) > 0 || len(certIPs) > 0:
				return fmt.Errorf("--cert-dns-names and --cert-ip-addresses go with --cert-manager-issuer")
			}
			docs, err := manifest.Render(o)
			if err != nil {
				return err
			}
			return manifest.Write(cmd.OutOrStdout(), docs)
		},
	}
	cmd.Flags().StringVar(&list, "components", components.Join(components.All()), "comma list of components to proxy (default: the policy's, all without --policy)")
	cmd.Flags().StringVar(&namespace, "namespace", names.DedicatedNamespace, "namespace of the ConfigMaps and the DaemonSets: one of their own, not one where other DaemonSets run")
	cmd.Flags().BoolVar(&createNamespace, "create-namespace", false, "print the Namespace too (default: true unless --namespace is given)")
	cmd.Flags().StringVar(&policyFile, "policy", "", "policy file the output must comply with (default: the default policy)")
	cmd.Flags().StringVar(&scraper, "scraper", "default/default", "NAMESPACE/SERVICEACCOUNT that may read the metrics")
	cmd.Flags().StringVar(&tls, "tls", "", `components whose frontend terminates TLS, or "none"; default kube-controller-manager,kube-scheduler`)
	cmd.Flags().StringVar(&tlsSecret, "tls-secret", "", "Secret (tls.crt, tls.key) the TLS frontends serve; default a per-node certificate made at pod start")
	cmd.Flags().StringVar(&prometheus, "prometheus", "", manifest.PrometheusOperator+": add headless Services and ServiceMonitors; "+manifest.PrometheusScrapeConfig+": add a scrape config (kubernetes_sd_configs) in a ConfigMap")
	cmd.Flags().StringVar(&issuer, "cert-manager-issuer", "", "[Issuer/|ClusterIssuer/]NAME: add a cert-manager Certificate that fills --tls-secret (default kind ClusterIssuer)")
	cmd.Flags().StringSliceVar(&certDNS, "cert-dns-names", nil, "the Certificate's DNS names, the server name verifying scrapers set; default metrics-proxy.NAMESPACE.svc")
	cmd.Flags().StringSliceVar(&certIPs, "cert-ip-addresses", nil, "the Certificate's IP addresses (every node IP, for scrapers that verify the address)")
	return cmd
}
