package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedConfig is the seed procedure's haproxy.cfg, kept once, beside the injector's tests.
const seedConfig = "../../webhook/inject/testdata/seed-haproxy.cfg"

// TestValidate runs `metrics-proxy validate` over config files and manifests: exit status, one
// line per violation naming file, line and rule, and the JSON form.
func TestValidate(t *testing.T) {
	const dir = "testdata/validate/"
	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  []string // each must appear in stdout
		lines   int      // when set, the exact number of stdout lines
		stderr  []string
		noLines bool // stdout must be empty
	}{
		{name: "the seed's config is compliant", args: []string{seedConfig}, code: exitOK, noLines: true},
		{name: "an allow before the deny", args: []string{dir + "allow-first.cfg"}, code: exitRejected,
			stdout: []string{dir + "allow-first.cfg:10: "}, stderr: []string{"metrics-proxy: 1 policy violation\n"}},
		{name: "several files at once", args: []string{seedConfig, dir + "allow-first.cfg"}, code: exitRejected,
			stdout: []string{dir + "allow-first.cfg:10: "}},
		{name: "a stub DaemonSet and its ConfigMap are what the cluster would admit", args: []string{dir + "proxy.yaml"}, code: exitOK, noLines: true},
		{name: "a DaemonSet mounting a leaky config", args: []string{dir + "leaky.yaml"}, code: exitRejected,
			stdout: []string{dir + "leaky.yaml: document 1: ConfigMap observability/leaky: haproxy.cfg:10: ",
				dir + "leaky.yaml: document 2: DaemonSet observability/metrics-proxy: configmap/leaky:haproxy.cfg:10: "},
			lines: 2}, // the ordinary node-exporter DaemonSet (document 3) is no proxy: nothing about it
		{name: "a policy file changes the verdict", args: []string{"--policy", dir + "warn-policy.yaml", seedConfig}, code: exitRejected,
			stdout: []string{seedConfig + ":8: method-deny"}},
		{name: "an invalid policy file", args: []string{"--policy", dir + "bad-policy.yaml", seedConfig}, code: exitUsage,
			stderr: []string{"bad-policy.yaml", "Maybe"}},
		{name: "a missing file", args: []string{dir + "absent.cfg"}, code: exitUsage, stderr: []string{"absent.cfg"}},
		{name: "no file", args: nil, code: exitUsage, stderr: []string{"requires at least 1 arg"}},
		{name: "bad output format", args: []string{"-o", "xml", seedConfig}, code: exitUsage, stderr: []string{`-o "xml"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), goldenVersion, append([]string{"validate"}, tt.args...), strings.NewReader(""), &stdout, &stderr)
			assert.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
			for _, w := range tt.stdout {
				assert.Contains(t, stdout.String(), w)
			}
			for _, w := range tt.stderr {
				assert.Contains(t, stderr.String(), w)
			}
			if tt.lines > 0 {
				assert.Equal(t, tt.lines, strings.Count(stdout.String(), "\n"), stdout.String())
			}
			if tt.noLines {
				assert.Empty(t, stdout.String())
			}
		})
	}
}

func TestValidateJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), goldenVersion, []string{"validate", "-o", "json", "testdata/validate/allow-first.cfg"}, strings.NewReader(""), &stdout, &stderr)
	require.Equal(t, exitRejected, code, stderr.String())
	var findings []finding
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &findings))
	require.NotEmpty(t, findings)
	assert.Equal(t, "testdata/validate/allow-first.cfg", findings[0].File)
	assert.Equal(t, 10, findings[0].Line)
	assert.NotEmpty(t, findings[0].Rule)

	stdout.Reset()
	code = run(context.Background(), goldenVersion, []string{"validate", "-o", "json", seedConfig}, strings.NewReader(""), &stdout, &stderr)
	require.Equal(t, exitOK, code, stderr.String())
	assert.JSONEq(t, "[]", stdout.String())
}

func TestValidateStdin(t *testing.T) {
	var stdout, stderr bytes.Buffer
	in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {metrics-proxy.io/config: haproxy}}\ndata:\n  haproxy.cfg: |\n    frontend f\n      bind *:10249\n"
	code := run(context.Background(), goldenVersion, []string{"validate", "-"}, strings.NewReader(in), &stdout, &stderr)
	assert.Equal(t, exitRejected, code, stderr.String())
	assert.Contains(t, stdout.String(), "<stdin>: document 1: ConfigMap c: haproxy.cfg:")
}
