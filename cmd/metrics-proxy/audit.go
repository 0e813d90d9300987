package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/metrics-proxy/injector/webhook/controller"
)

// newAuditCommand is `metrics-proxy audit`.
func newAuditCommand(version string) *cobra.Command {
	var f clusterFlags
	var output string
	cmd := &cobra.Command{
		Use:   "audit [--kubeconfig FILE] [--policy FILE] [-o table|json]",
		Short: "Report existing objects that today's policy or injection would not produce (live cluster)",
		Long: `Reads the cluster as kubectl does and checks every object in scope, as the controller in "serve"
does: DaemonSets the webhook selects or injected, and proxy ConfigMaps. A finding is one of
` + reasonList() + `.
Exit status: 0 no findings, 1 findings, 2 usage, connection or read error.`,
		Example: "  metrics-proxy audit\n  metrics-proxy audit --policy stricter.yaml -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("-o %q: want table or json", output)
			}
			r, p, cfg, err := f.connect(version)
			if err != nil {
				return err
			}
			rep, err := controller.Scan(cmd.Context(), r, p, cfg)
			if err != nil {
				return fmt.Errorf("audit: %w", err)
			}
			if err := printAudit(cmd, output, rep.Findings); err != nil {
				return err
			}
			if len(rep.Findings) > 0 {
				return &exitError{code: exitRejected, err: errors.New(countOf(len(rep.Findings), "finding"))}
			}
			return nil
		},
	}
	f.add(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// printAudit writes the findings as a table (or a line saying there are none) or a JSON array.
func printAudit(cmd *cobra.Command, output string, fs []controller.Finding) error {
	out := cmd.OutOrStdout()
	if output == "json" {
		if fs == nil {
			fs = []controller.Finding{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(fs)
	}
	if len(fs) == 0 {
		_, err := fmt.Fprintln(out, "no findings")
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAMESPACE\tNAME\tREASON\tMESSAGE")
	for _, f := range fs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Kind, f.Namespace, f.Name, f.Reason, f.Message)
	}
	return tw.Flush()
}

// reasonList names the reasons for help texts.
func reasonList() string {
	s := ""
	for i, r := range controller.Reasons() {
		if i > 0 {
			s += ", "
		}
		s += string(r)
	}
	return s
}
