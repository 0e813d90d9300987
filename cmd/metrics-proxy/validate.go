package main

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// finding is one line of `validate` output, in text or JSON.
type finding struct {
	File     string `json:"file"`
	Document int    `json:"document,omitempty"`
	Item     int    `json:"item,omitempty"`
	Object   string `json:"object,omitempty"`
	Source   string `json:"source"`
	Line     int    `json:"line,omitempty"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
}

// String is the text form: FILE:LINE: RULE: message for a config file, FILE: OBJECT: violation for YAML.
func (f finding) String() string {
	v := policy.Violation{Source: f.Source, Line: f.Line, Rule: policy.RuleID(f.Rule), Message: f.Message}
	if f.Object == "" {
		v.Source = f.File
		return v.String()
	}
	where := fmt.Sprintf("document %d", f.Document)
	if f.Item > 0 {
		where += fmt.Sprintf(" item %d", f.Item)
	}
	return fmt.Sprintf("%s: %s: %s: %s", f.File, where, f.Object, v)
}

// validateOptions are the flags of `metrics-proxy validate`.
type validateOptions struct {
	policyFile, output   string
	recursive, nsEnabled bool
	maxViolations        int
	inject               inject.Config
}

// newValidateCommand is `metrics-proxy validate`.
func newValidateCommand(version string) *cobra.Command {
	o := validateOptions{inject: inject.Config{Version: version}}
	cmd := &cobra.Command{
		Use:   "validate [--policy FILE] [-o text|json] [-R] [--max-violations N] FILE|DIR...",
		Short: "Check haproxy.cfg files and YAML (ConfigMaps, DaemonSets, Lists) against the policy, as the validating webhook does",
		Long: `Checks every file against the policy (the built-in default, or --policy), as the cluster would
admit it. Files named *.yaml, *.yml or *.json (or "-", standard input) are Kubernetes manifests,
Lists included (kubectl get -o yaml): they are injected as the mutating webhook would (see
inject: DaemonSets without their own metrics-proxy.io/inject label count as proxies only with
--namespace-enabled), then every ConfigMap holding haproxy.cfg and every proxy DaemonSet (with
the ConfigMap it mounts, which must be among the inputs) is checked. Any other file is an
haproxy.cfg. Directories need -R, which reads their manifests and *.cfg files. One line per
violation, each once, the first --max-violations of them (0: all) and then how many more there
are; the number of objects checked on standard error.
Exit status: 0 compliant, 1 violations, 2 usage or I/O error, or nothing to check.`,
		Example: "  metrics-proxy validate haproxy.cfg\n  metrics-proxy validate --policy policy.yaml -o json -R deploy/\n" +
			"  kubectl get configmaps,daemonsets -A -o yaml | metrics-proxy validate -",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd, o, args)
		},
	}
	cmd.Flags().StringVar(&o.policyFile, "policy", "", "policy file; default: the built-in policy")
	cmd.Flags().StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	cmd.Flags().BoolVarP(&o.recursive, "recursive", "R", false, "read directories: their *.yaml, *.yml, *.json and *.cfg files, recursively")
	cmd.Flags().IntVar(&o.maxViolations, "max-violations", policy.DefaultMaxViolations, "list at most this many violations, then how many more there are (0: all)")
	cmd.Flags().BoolVar(&o.nsEnabled, "namespace-enabled", false, "check DaemonSets without their own metrics-proxy.io/inject label as proxies, as in a namespace labelled metrics-proxy.io/injection: enabled")
	addDefaultImageFlag(cmd, &o.inject.DefaultImage)
	addProxyCertImageFlag(cmd, &o.inject.InjectorImage)
	return cmd
}

// runValidate checks every input, prints the findings and says how many objects were checked.
func runValidate(cmd *cobra.Command, o validateOptions, args []string) error {
	if o.output != "text" && o.output != "json" {
		return fmt.Errorf("-o %q: want text or json", o.output)
	}
	if o.maxViolations < 0 {
		return fmt.Errorf("--max-violations %d: want 0 (all) or more", o.maxViolations)
	}
	p, err := loadPolicy(o.policyFile)
	if err != nil {
		return err
	}
	if o.inject.InjectorImage != "" {
		p = p.WithInjectorImage(o.inject.InjectorImage)
	}
	files, err := expandInputs(args, o.recursive)
	if err != nil {
		return err
	}
	var all []finding
	checked, total := 0, 0
	for _, file := range files {
		found, n, more, err := validateFile(cmd, file, p, o)
		if err != nil {
			return err
		}
		all = append(all, found...)
		checked += n
		total += len(found) + more
	}
	if o.maxViolations > 0 && len(all) > o.maxViolations {
		all = all[:o.maxViolations]
	}
	if err := printFindings(cmd.OutOrStdout(), o.output, all, total-len(all)); err != nil {
		return err
	}
	summary := fmt.Sprintf("checked %s in %s", countOf(checked, "object"), countOf(len(files), "file"))
	switch {
	case checked == 0:
		return fmt.Errorf("%s: nothing to check (no haproxy.cfg, no ConfigMap holding one, no proxy DaemonSet)", summary)
	case total > 0:
		return &exitError{code: exitRejected, err: fmt.Errorf("%s: %s", summary, countOf(total, "policy violation"))}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "metrics-proxy: %s: compliant\n", summary)
	return nil
}

// expandInputs returns the files to read: arguments as they are, directories (with recursive)
// as the manifests and *.cfg files under them, in lexical order.
func expandInputs(args []string, recursive bool) ([]string, error) {
	var files []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		if arg == "-" || err != nil || !info.IsDir() {
			files = append(files, arg) // a missing file is reported when it is opened
			continue
		}
		if !recursive {
			return nil, fmt.Errorf("%s is a directory: pass -R to read the files under it", arg)
		}
		before := len(files)
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (isManifest(path) || strings.EqualFold(filepath.Ext(path), ".cfg")) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", arg, err)
		}
		if len(files) == before {
			return nil, fmt.Errorf("%s: no *.yaml, *.yml, *.json or *.cfg file under it", arg)
		}
	}
	return files, nil
}

// loadPolicy reads the policy file, or returns the default policy.
func loadPolicy(file string) (*policy.Policy, error) {
	if file == "" {
		return policy.Default(), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--policy: %w", err)
	}
	p, err := policy.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("--policy %s: %w", file, err)
	}
	return p, nil
}

// validateFile checks one file, a manifest or an haproxy.cfg by its name, and returns its
// first --max-violations findings, how many objects it checked and how many more findings it
// left out.
func validateFile(cmd *cobra.Command, file string, p *policy.Policy, o validateOptions) ([]finding, int, int, error) {
	if isManifest(file) {
		found, n, err := validateManifest(cmd, file, p, o)
		if o.maxViolations > 0 && len(found) > o.maxViolations {
			return found[:o.maxViolations], n, len(found) - o.maxViolations, err
		}
		return found, n, 0, err
	}
	in, name, closeIn, err := openInput(cmd, file)
	if err != nil {
		return nil, 0, 0, err
	}
	defer closeIn()
	text, err := io.ReadAll(io.LimitReader(in, manifest.MaxDocumentSize+1))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: read: %w", name, err)
	}
	if len(text) > manifest.MaxDocumentSize {
		return nil, 0, 0, fmt.Errorf("%s: larger than %d bytes", name, manifest.MaxDocumentSize)
	}
	vs, more := policy.ValidateConfigN(text, p, o.maxViolations)
	var out []finding
	for _, v := range vs {
		out = append(out, finding{File: name, Source: v.Source, Line: v.Line, Rule: string(v.Rule), Message: v.Message})
	}
	return out, 1, more, nil
}

// validateManifest checks the objects of one manifest file, Lists expanded.
func validateManifest(cmd *cobra.Command, file string, p *policy.Policy, o validateOptions) ([]finding, int, error) {
	docs, name, err := readManifest(cmd, file)
	if err != nil {
		return nil, 0, err
	}
	if docs, err = manifest.ExpandLists(docs); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	report, err := manifest.Validate(docs, p, o.inject, o.nsEnabled)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", name, err)
	}
	reportUnlabelled(cmd.ErrOrStderr(), name, report.Unlabelled, "checked as a proxy", "not checked")
	var out []finding
	for _, f := range report.Findings {
		out = append(out, finding{File: name, Document: f.Document, Item: f.Item, Object: f.Object, Source: f.Source,
			Line: f.Line, Rule: string(f.Rule), Message: f.Message})
	}
	return out, len(report.Checked), nil
}

// isManifest tells Kubernetes manifests (and standard input) from haproxy.cfg files, by name.
func isManifest(file string) bool {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return file == "-"
}

// printFindings writes findings as text lines and a last line saying how many more there are,
// or as one JSON array (the exit status's message on standard error gives the total).
func printFindings(w io.Writer, format string, findings []finding, more int) error {
	if format == "json" {
		if findings == nil {
			findings = []finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(findings); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		return nil
	}
	for _, f := range findings {
		if _, err := fmt.Fprintln(w, f.String()); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	if more > 0 {
		if _, err := fmt.Fprintln(w, policy.More(more)+" (--max-violations 0 lists all)"); err != nil {
			return fmt.Errorf("write: %w", err)
		}
	}
	return nil
}
