package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metrics-proxy/injector/webhook/manifest"
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
			stdout: []string{dir + "allow-first.cfg:10: "}, stderr: []string{"metrics-proxy: checked 1 object in 1 file: 1 policy violation\n"}},
		{name: "several files at once", args: []string{seedConfig, dir + "allow-first.cfg"}, code: exitRejected,
			stdout: []string{dir + "allow-first.cfg:10: "}},
		{name: "a stub DaemonSet and its ConfigMap are what the cluster would admit", args: []string{dir + "proxy.yaml"}, code: exitOK, noLines: true},
		{name: "a DaemonSet mounting a leaky config", args: []string{dir + "leaky.yaml"}, code: exitRejected,
			stdout: []string{dir + "leaky.yaml: document 1: ConfigMap observability/leaky: haproxy.cfg:10: "},
			stderr: []string{"checked 2 objects in 1 file: 1 policy violation"},
			lines:  1}, // once, on the ConfigMap, not again under the DaemonSet that mounts it; the
		// ordinary node-exporter DaemonSet (document 3) is no proxy: nothing about it
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

// TestValidateNeverPassesWhatItDidNotCheck: Lists are read, directories need -R, each file's
// objects are counted, and input with nothing to check is an error, never a pass.
func TestValidateNeverPassesWhatItDidNotCheck(t *testing.T) {
	leaky, err := os.ReadFile("testdata/validate/leaky.yaml")
	require.NoError(t, err)
	docs, err := manifest.Read(bytes.NewReader(leaky))
	require.NoError(t, err)
	// What kubectl get -o yaml prints: the same objects as items of a List.
	var items []string
	for _, d := range docs {
		items = append(items, "- "+strings.ReplaceAll(strings.TrimRight(string(d.YAML), "\n"), "\n", "\n  "))
	}
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	list := write("tree/list.yaml", "apiVersion: v1\nkind: List\nitems:\n"+strings.Join(items, "\n")+"\n")
	other := write("other/service.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")

	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout []string
		stderr []string
	}{
		{name: "a List holding a violating ConfigMap", args: []string{list}, code: exitRejected,
			stdout: []string{list + ": document 1 item 1: ConfigMap observability/leaky: haproxy.cfg:10: http-request-action"},
			stderr: []string{"checked 2 objects in 1 file: 1 policy violation"}},
		{name: "a List on standard input", args: []string{"-"}, stdin: "apiVersion: v1\nkind: List\nitems:\n" + strings.Join(items, "\n") + "\n",
			code: exitRejected, stdout: []string{"<stdin>: document 1 item 1: ConfigMap observability/leaky"}},
		{name: "a directory without -R", args: []string{filepath.Join(dir, "tree")}, code: exitUsage, stderr: []string{"is a directory: pass -R"}},
		{name: "a directory with -R", args: []string{"-R", dir}, code: exitRejected,
			stdout: []string{"list.yaml: document 1 item 1"}, stderr: []string{"checked 2 objects in 2 files"}},
		{name: "nothing to check", args: []string{other}, code: exitUsage, stderr: []string{"checked 0 objects in 1 file: nothing to check"}},
		{name: "a compliant file says what it checked", args: []string{seedConfig}, code: exitOK, stderr: []string{"checked 1 object in 1 file: compliant"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), goldenVersion, append([]string{"validate"}, tt.args...), strings.NewReader(tt.stdin), &stdout, &stderr)
			assert.Equal(t, tt.code, code, "stdout: %s\nstderr: %s", stdout.String(), stderr.String())
			for _, w := range tt.stdout {
				assert.Contains(t, stdout.String(), w)
			}
			for _, w := range tt.stderr {
				assert.Contains(t, stderr.String(), w)
			}
		})
	}
}
