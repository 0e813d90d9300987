package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	return fmt.Sprintf("%s: document %d: %s: %s", f.File, f.Document, f.Object, v)
}

// newValidateCommand is `metrics-proxy validate`.
func newValidateCommand(version string) *cobra.Command {
	var policyFile, output, image string
	cmd := &cobra.Command{
		Use:   "validate [--policy FILE] [-o text|json] FILE...",
		Short: "Check haproxy.cfg files and YAML (ConfigMaps, DaemonSets) against the policy, as the validating webhook does",
		Long: `Checks every file against the policy (the built-in default, or --policy), as the cluster would
admit it. Files named *.yaml, *.yml or *.json (or "-", standard input) are Kubernetes manifests:
they are injected as the mutating webhook would, then every ConfigMap holding haproxy.cfg and every
proxy DaemonSet (with the ConfigMap it mounts, which must be among the same documents) is checked.
Any other file is an haproxy.cfg. One line per violation.
Exit status: 0 compliant, 1 violations, 2 usage or I/O error.`,
		Example: "  metrics-proxy validate haproxy.cfg\n  metrics-proxy validate --policy policy.yaml -o json deploy/*.yaml",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %q: want text or json", output)
			}
			p, err := loadPolicy(policyFile)
			if err != nil {
				return err
			}
			var all []finding
			for _, file := range files {
				found, err := validateFile(cmd, file, p, inject.Config{Version: version, DefaultImage: image})
				if err != nil {
					return err
				}
				all = append(all, found...)
			}
			if err := printFindings(cmd.OutOrStdout(), output, all); err != nil {
				return err
			}
			if len(all) > 0 {
				return &exitError{code: exitRejected, err: errors.New(countOf(len(all), "policy violation"))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&policyFile, "policy", "", "policy file; default: the built-in policy")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	addDefaultImageFlag(cmd, &image)
	return cmd
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

// validateFile checks one file, a manifest or an haproxy.cfg by its name.
func validateFile(cmd *cobra.Command, file string, p *policy.Policy, cfg inject.Config) ([]finding, error) {
	in, name, closeIn, err := openInput(cmd, file)
	if err != nil {
		return nil, err
	}
	defer closeIn()
	var out []finding
	if isManifest(file) {
		docs, err := manifest.Read(in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		found, err := manifest.Validate(docs, p, cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, f := range found {
			out = append(out, finding{File: name, Document: f.Document, Object: f.Object, Source: f.Source,
				Line: f.Line, Rule: string(f.Rule), Message: f.Message})
		}
		return out, nil
	}
	text, err := io.ReadAll(io.LimitReader(in, manifest.MaxDocumentSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", name, err)
	}
	if len(text) > manifest.MaxDocumentSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, manifest.MaxDocumentSize)
	}
	for _, v := range policy.ValidateConfig(text, p) {
		out = append(out, finding{File: name, Source: v.Source, Line: v.Line, Rule: string(v.Rule), Message: v.Message})
	}
	return out, nil
}

// isManifest tells Kubernetes manifests (and standard input) from haproxy.cfg files, by name.
func isManifest(file string) bool {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return file == "-"
}

// printFindings writes findings as text lines or one JSON array.
func printFindings(w io.Writer, format string, findings []finding) error {
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
	return nil
}
