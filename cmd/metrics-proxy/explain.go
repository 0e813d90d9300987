package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/metrics-proxy/injector/webhook/controller"
)

// newExplainCommand is `metrics-proxy explain daemonset NS/NAME`.
func newExplainCommand(version string) *cobra.Command {
	var f clusterFlags
	var output, webhookConfig string
	cmd := &cobra.Command{
		Use:   "explain daemonset NAMESPACE/NAME",
		Short: "Explain why a DaemonSet is or is not injected and admitted (live cluster)",
		Long: `Reads the DaemonSet, its namespace, its ConfigMap, its pods and the mutating webhook
configuration as kubectl does, and says: which webhook entry selects it and why (the labels),
the version that injected it against this one, today's policy verdict on it and its ConfigMap,
the config hash on its pod template against its ConfigMap's, the audit's findings and its pods
per node, ready or not.
Exit status: 0 explained, 2 usage, connection or read error.`,
		Example: "  metrics-proxy explain daemonset kube-system/metrics-proxy",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 || (args[0] != "daemonset" && args[0] != "ds" && args[0] != "daemonsets") {
				return fmt.Errorf("want: explain daemonset NAMESPACE/NAME")
			}
			if ns, name, ok := strings.Cut(args[1], "/"); !ok || ns == "" || name == "" {
				return fmt.Errorf("%q: want NAMESPACE/NAME", args[1])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %q: want text or json", output)
			}
			r, p, cfg, err := f.connect(version)
			if err != nil {
				return err
			}
			ns, name, _ := strings.Cut(args[1], "/")
			e, err := controller.Explain(cmd.Context(), r, ns, name, webhookConfig, p, cfg)
			if err != nil {
				return err
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(e)
			}
			return printExplanation(cmd.OutOrStdout(), e)
		},
	}
	f.add(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&webhookConfig, "webhook-configuration", "metrics-proxy", "the MutatingWebhookConfiguration to evaluate")
	return cmd
}

// printExplanation writes e as sections of text.
func printExplanation(w io.Writer, e *controller.Explanation) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	label := func(v string) string {
		if v == "" {
			return "(absent)"
		}
		return v
	}
	p("DaemonSet %s/%s", e.Namespace, e.Name)
	p("\nSelection")
	p("  namespace label metrics-proxy.io/injection: %s", label(e.NamespaceLabel))
	p("  DaemonSet label metrics-proxy.io/inject:    %s", label(e.InjectLabel))
	if e.Selection.Selected {
		p("  selected by %s: %s", e.Selection.Entry, e.Selection.Why)
	} else {
		p("  not selected: %s", e.Selection.Why)
	}
	for _, n := range e.NotProxies {
		p("  warning: %s", n)
	}
	if e.WebhooksError != "" {
		p("  live configuration: %s", e.WebhooksError)
	}
	for _, m := range e.Webhooks {
		verdict := "does not match"
		if m.Matches {
			verdict = "matches"
		}
		p("  live entry %s %s: %s", m.Name, verdict, m.Why)
		if len(m.MatchConditions) > 0 {
			p("    then match conditions: %s", strings.Join(m.MatchConditions, ", "))
		}
	}
	p("\nInjection")
	if e.Status == nil {
		p("  not injected (no metrics-proxy.io/status); this injector is %s", e.Version)
	} else {
		p("  injected by %s (spec %s); this injector is %s", e.Status.Version, e.Status.Hash, e.Version)
	}
	p("\nPolicy (today's, enforcement %s)", e.Enforcement)
	switch {
	case e.Exempt:
		p("  namespace %s is exempt: nothing is validated", e.Namespace)
	case len(e.Violations) == 0:
		p("  compliant (the DaemonSet and ConfigMap %s)", label(e.ConfigMap))
	case e.Enforcement == "Warn":
		p("  a write would be admitted with %s as warnings:", countOf(len(e.Violations), "violation"))
	default:
		p("  a write would be denied, %s:", countOf(len(e.Violations), "violation"))
	}
	for _, v := range e.Violations {
		p("  %s", v)
	}
	p("\nConfig")
	p("  ConfigMap %s: config hash %s; pod template: %s", label(e.ConfigMap), label(e.ConfigMapHash), label(e.TemplateHash))
	p("\nFindings (audit now)")
	if len(e.Findings) == 0 {
		p("  none")
	}
	for _, f := range e.Findings {
		p("  %s: %s", f.Reason, f.Message)
	}
	if e.Audit != nil {
		p("  last written by the controller (%s): %d finding(s)", e.Audit.Version, len(e.Audit.Findings))
	}
	p("\nPods")
	if len(e.Pods) == 0 {
		p("  none")
	}
	for _, pod := range e.Pods {
		ready, current := "not ready", ""
		if pod.Ready {
			ready = "ready"
		}
		if pod.ConfigHash != e.TemplateHash {
			current = fmt.Sprintf(", older config %s", label(pod.ConfigHash))
		}
		p("  %s on %s: %s%s", pod.Name, label(pod.Node), ready, current)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
