package main

import (
	"io"

	"github.com/spf13/cobra"
)

// newRootCommand builds the command tree; the streams are the process's or a test's.
func newRootCommand(version string, stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "metrics-proxy",
		Short: "Expose control-plane metrics safely: an injecting and validating admission webhook, and its offline CLI",
		Long: `metrics-proxy completes DaemonSet stubs into an HAProxy proxy that exposes the control plane's
localhost-only metrics (kube-proxy, kube-controller-manager, kube-scheduler, etcd) on the node IP,
and nothing but /metrics. "serve" runs the admission webhook; "inject", "validate" and "render" do
the same work offline, for GitOps and CI, through the same code; "audit" and "explain" read a live
cluster and report what today's policy and injection say about the existing objects; "proxy-cert"
writes a proxy pod's per-node frontend certificate (its init container runs it); "remove-webhooks"
deletes the webhook configurations before an uninstall; "version" prints the version.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("metrics-proxy {{.Version}}\n")
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServeCommand(version), newInjectCommand(version), newValidateCommand(version), newRenderCommand(), newAuditCommand(version), newExplainCommand(version), newProxyCertCommand(), newRemoveWebhooksCommand(), newVersionCommand(version))
	return root
}

// newVersionCommand prints the version.
func newVersionCommand(version string) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.Println("metrics-proxy " + version)
			return nil
		},
	}
}
