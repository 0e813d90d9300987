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

// newInjectCommand is `metrics-proxy inject [FILE|-]...`.
func newInjectCommand(version string) *cobra.Command {
	var file, image, certImage string
	var namespaceEnabled bool
	cmd := &cobra.Command{
		Use:   "inject [-f FILE|-] [FILE|-]...",
		Short: "Inject DaemonSets and fill stub proxy ConfigMaps in multi-document YAML, as the webhook would",
		Long: `Reads multi-document YAML (files, or standard input when none is named) and writes it back with
the DaemonSets the webhook would select injected and every stub proxy ConfigMap filled, through
the same code as the webhook. Like the webhook it follows the labels: a DaemonSet labelled
metrics-proxy.io/inject: "true" is injected; one without that label only with --namespace-enabled,
which says its namespace is labelled metrics-proxy.io/injection: enabled (a file cannot say);
each unlabelled DaemonSet is named on standard error, injected or not. DaemonSets labelled
metrics-proxy.io/inject: "false", and every other document, pass through unchanged. A List
(kubectl get -o yaml) is refused: split it first.
Exit status: 0 done, 1 an invalid metrics-proxy.io annotation, 2 unreadable input or malformed YAML.`,
		Example: "  metrics-proxy inject daemonset.yaml | kubectl apply -f -\n" +
			"  metrics-proxy render --namespace metrics-proxy | metrics-proxy inject | kubectl apply -f -",
		RunE: func(cmd *cobra.Command, args []string) error {
			files := inputs(file, args)
			var all []manifest.Document // nothing is written unless every input was read and injected
			for _, f := range files {
				docs, name, err := readManifest(cmd, f)
				if err != nil {
					return err
				}
				for _, d := range docs {
					if manifest.IsList(d) {
						return fmt.Errorf("%s: document %d: a %s: inject writes objects back one per document; "+
							"split it first (kubectl get -o yaml prints Lists), or use validate, which reads them", name, d.Index, d.Kind)
					}
				}
				injected, unlabelled, notes, err := manifest.InjectNotes(docs, inject.Config{Version: version, DefaultImage: image, InjectorImage: certImage}, namespaceEnabled)
				if errors.Is(err, inject.ErrInvalidAnnotation) {
					return &exitError{code: exitRejected, err: fmt.Errorf("%s: %w", name, err)}
				}
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				reportUnlabelled(cmd.ErrOrStderr(), name, unlabelled, "injected", "left as it is")
				reportNotes(cmd.ErrOrStderr(), name, notes)
				all = append(all, injected...)
			}
			return manifest.Write(cmd.OutOrStdout(), all)
		},
	}
	cmd.Flags().StringVarP(&file, "filename", "f", "", `file to inject, or "-" for standard input (files may also be given as arguments)`)
	cmd.Flags().BoolVar(&namespaceEnabled, "namespace-enabled", false, "inject DaemonSets without their own metrics-proxy.io/inject label too, as the webhook does in a namespace labelled metrics-proxy.io/injection: enabled")
	addDefaultImageFlag(cmd, &image)
	addProxyCertImageFlag(cmd, &certImage)
	return cmd
}

// inputs is the files to read: -f's and the arguments, or standard input when there are none.
func inputs(file string, args []string) []string {
	var files []string
	if file != "" {
		files = append(files, file)
	}
	files = append(files, args...)
	if len(files) == 0 {
		files = []string{"-"}
	}
	return files
}

// readManifest reads the documents of one file, or of standard input for "-".
func readManifest(cmd *cobra.Command, file string) ([]manifest.Document, string, error) {
	in, name, closeIn, err := openInput(cmd, file)
	if err != nil {
		return nil, "", err
	}
	defer closeIn()
	docs, err := manifest.Read(in)
	if err != nil {
		return nil, name, fmt.Errorf("%s: %w", name, err)
	}
	return docs, name, nil
}

// reportUnlabelled names on w each DaemonSet without its own inject label, and what was done with it.
func reportUnlabelled(w io.Writer, file string, us []manifest.Unlabelled, done, notDone string) {
	for _, u := range us {
		if u.Injected {
			fmt.Fprintf(w, "metrics-proxy: %s: document %d: %s has no metrics-proxy.io/inject label: %s (--namespace-enabled)\n", file, u.Document, u.Object, done)
		} else {
			fmt.Fprintf(w, "metrics-proxy: %s: document %d: %s has no metrics-proxy.io/inject label: %s; "+
				"the webhook makes it a proxy only in a namespace labelled metrics-proxy.io/injection: enabled (--namespace-enabled)\n", file, u.Document, u.Object, notDone)
		}
	}
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

// reportNotes prints, one line each, what the webhook would warn about: "metrics-proxy: FILE: document N:
// DaemonSet NS/NAME: warning: TEXT".
func reportNotes(w io.Writer, file string, notes []manifest.Note) {
	for _, n := range notes {
		fmt.Fprintf(w, "metrics-proxy: %s: document %d: %s: warning: %s\n", file, n.Document, n.Object, n.Text)
	}
}
