package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/manifest"
)

// newInjectCommand is `metrics-proxy inject -f FILE|-`.
func newInjectCommand(version string) *cobra.Command {
	var file, image string
	cmd := &cobra.Command{
		Use:   "inject -f FILE|-",
		Short: "Inject DaemonSets and fill stub proxy ConfigMaps in multi-document YAML, as the webhook would",
		Long: `Reads multi-document YAML and writes it back with every apps/v1 DaemonSet injected and every
stub proxy ConfigMap filled, through the same code as the webhook. DaemonSets labelled
metrics-proxy.io/inject: "false", and every other document, pass through unchanged.
Exit status: 0 done, 1 an invalid metrics-proxy.io annotation, 2 unreadable input or malformed YAML.`,
		Example: "  metrics-proxy inject -f daemonset.yaml | kubectl apply -f -",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, name, closeIn, err := openInput(cmd, file)
			if err != nil {
				return err
			}
			defer closeIn()
			docs, err := manifest.Read(in)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			docs, err = manifest.Inject(docs, inject.Config{Version: version, DefaultImage: image})
			if errors.Is(err, inject.ErrInvalidAnnotation) {
				return &exitError{code: exitRejected, err: fmt.Errorf("%s: %w", name, err)}
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return manifest.Write(cmd.OutOrStdout(), docs)
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", `file to inject, or "-" for standard input`)
	addDefaultImageFlag(cmd, &image)
	_ = cmd.MarkFlagRequired("filename")
	return cmd
}

// openInput opens FILE or, for "-", standard input; name is what error messages call it.
func openInput(cmd *cobra.Command, file string) (in io.Reader, name string, closeIn func(), err error) {
	if file == "-" {
		return cmd.InOrStdin(), "<stdin>", func() {}, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, "", nil, fmt.Errorf("open input: %w", err)
	}
	return f, file, func() { _ = f.Close() }, nil
}
