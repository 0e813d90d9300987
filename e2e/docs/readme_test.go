package docs_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// block is one fenced block of a Markdown file and its marker.
type block struct {
	line   int    // of the opening fence, 1-based
	lang   string // after the fence
	kind   string // cli, install, cluster, file, skip
	arg    string // the rest of the marker: exit=N, a file name, a reason
	script string
}

var (
	fence  = regexp.MustCompile("^```(\\S*)\\s*$")
	marker = regexp.MustCompile(`^<!-- docs-test: (\S+)(?: (.*?))? -->$`)
)

// parseBlocks returns the fenced blocks of text, each with the marker on the line before its
// opening fence; a block without one is an error naming its line.
func parseBlocks(text string) ([]block, []error) {
	var blocks []block
	var errs []error
	var cur *block
	var body []string
	prev := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		m := fence.FindStringSubmatch(line)
		switch {
		case cur != nil && line == "```":
			cur.script = strings.Join(body, "\n") + "\n"
			blocks = append(blocks, *cur)
			cur, body = nil, nil
		case cur != nil:
			body = append(body, line)
		case m != nil:
			cur = &block{line: n, lang: m[1]}
			if mm := marker.FindStringSubmatch(prev); mm != nil {
				cur.kind, cur.arg = mm[1], mm[2]
			} else {
				errs = append(errs, fmt.Errorf("README.md:%d: a ```%s block without a <!-- docs-test: ... --> marker on the line before", n, m[1]))
			}
		}
		prev = line
	}
	if cur != nil {
		errs = append(errs, fmt.Errorf("README.md:%d: block never closed", cur.line))
	}
	return blocks, errs
}

// TestParseBlocks: the parser finds markers, arguments and unmarked blocks.
func TestParseBlocks(t *testing.T) {
	blocks, errs := parseBlocks("text\n<!-- docs-test: cli exit=1 -->\n```sh\necho a\n```\n\n```yaml\nx: 1\n```\n<!-- docs-test: skip needs nodes -->\n```\nout\n```\n")
	require.Len(t, blocks, 3)
	assert.Equal(t, block{line: 3, lang: "sh", kind: "cli", arg: "exit=1", script: "echo a\n"}, blocks[0])
	assert.Equal(t, "", blocks[1].kind)
	assert.Equal(t, "needs nodes", blocks[2].arg)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "README.md:7: a ```yaml block without")
}

// TestREADMEExamples runs every example of the README as its marker says, in order: offline ones
// against the CLI, install ones against a local control plane (kube-apiserver and etcd, no
// webhook server: what `kubectl apply -k` installs cannot run its pods without nodes), cluster
// ones against a local control plane with the webhook server running as `serve` does. A block
// that fails, exits otherwise than marked, or has no marker fails the test.
func TestREADMEExamples(t *testing.T) {
	root := testtool.RepoRoot()
	text, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	blocks, errs := parseBlocks(string(text))
	for _, err := range errs {
		t.Error(err)
	}
	require.NotEmpty(t, blocks)

	work := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(work, "deploy"), os.DirFS(filepath.Join(root, "deploy"))))
	binDir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(binDir, "metrics-proxy"), "./cmd/metrics-proxy")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build metrics-proxy: %s", out)
	// The webhook server the cluster blocks run injects as this binary's version, so that audit
	// and explain see proxies injected by "this" version, as after an install of one release.
	out, err = exec.Command(filepath.Join(binDir, "metrics-proxy"), "version").Output()
	require.NoError(t, err)
	version := strings.TrimPrefix(strings.TrimSpace(string(out)), "metrics-proxy ")

	var assets string
	clusters := map[string]string{} // kind -> kubeconfig, started on first use
	kubeconfig := func(kind string) string {
		if kc, ok := clusters[kind]; ok {
			return kc
		}
		if assets == "" {
			if assets, err = harness.Assets(); err != nil {
				testtool.Missing(t, err.Error())
			}
		}
		switch kind {
		case "install":
			clusters[kind] = plainControlPlane(t, assets)
		case "cluster":
			cp, err := harness.Start(context.Background(), harness.Options{Assets: assets, Inject: inject.Config{Version: version}})
			require.NoError(t, err)
			t.Cleanup(cp.Stop)
			clusters[kind] = cp.Kubeconfig
		}
		return clusters[kind]
	}

	counts := map[string]int{}
	for _, b := range blocks {
		name := fmt.Sprintf("README.md:%d %s", b.line, b.kind)
		counts[b.kind]++
		switch b.kind {
		case "skip":
			if strings.TrimSpace(b.arg) == "" {
				t.Errorf("%s: a skipped block must say why", name)
			} else {
				t.Logf("%s: not run: %s", name, b.arg)
			}
		case "file":
			require.NotEmpty(t, b.arg, "%s: file needs a name", name)
			path := filepath.Join(work, b.arg)
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, []byte(b.script), 0o644), name)
		case "cli", "install", "cluster":
			want := 0
			if v, ok := strings.CutPrefix(b.arg, "exit="); ok {
				want, err = strconv.Atoi(v)
				require.NoError(t, err, "%s: %q", name, b.arg)
			} else if b.arg != "" {
				t.Errorf("%s: unknown argument %q", name, b.arg)
			}
			kc := filepath.Join(work, "no-cluster")
			if b.kind != "cli" {
				kc = kubeconfig(b.kind)
			}
			path := binDir + string(os.PathListSeparator)
			if assets != "" {
				path += assets + string(os.PathListSeparator)
			}
			code, output := runBlock(t, work, b.script, "PATH="+path+os.Getenv("PATH"), "KUBECONFIG="+kc)
			if code != want {
				t.Errorf("%s: exit %d, want %d:\n%s\n--- output:\n%s", name, code, want, b.script, output)
			} else {
				t.Logf("%s: exit %d as marked", name, code)
			}
		default:
			t.Errorf("%s: unknown marker kind %q", name, b.kind)
		}
	}
	t.Logf("README blocks: %v", counts)
}

// runBlock runs script with bash (errexit, pipefail) in dir, bounded to two minutes, and returns
// its exit status and output.
func runBlock(t *testing.T, dir, script string, env ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Errorf("block timed out after 2 minutes:\n%s", script)
	}
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), out.String()
	}
	require.NoError(t, err)
	return 0, out.String()
}

// plainControlPlane starts kube-apiserver and etcd without a webhook server and returns an admin
// kubeconfig; both stop when the test ends.
func plainControlPlane(t *testing.T, assets string) string {
	t.Helper()
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	_, err := env.Start()
	require.NoError(t, err, "start kube-apiserver and etcd")
	t.Cleanup(func() { _ = env.Stop() })
	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	data, err := user.KubeConfig()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// TestREADMEPolicyIsTheDefault: the policy the README offers to copy as the defaults is exactly
// the built-in default policy, and the install's policy file is too.
func TestREADMEPolicyIsTheDefault(t *testing.T) {
	root := testtool.RepoRoot()
	text, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	blocks, _ := parseBlocks(string(text))
	var found bool
	for _, b := range blocks {
		if b.kind != "file" || b.arg != "policy.yaml" {
			continue
		}
		found = true
		p, err := policy.Parse([]byte(b.script))
		require.NoError(t, err, "README.md:%d", b.line)
		if len(p.FrontendTLS) == 0 {
			p.FrontendTLS = nil // frontendTLS: {} says what the default says
		}
		assert.Equal(t, policy.Default(), p, "README.md:%d is not the default policy", b.line)
	}
	assert.True(t, found, "the README has a <!-- docs-test: file policy.yaml --> block with the defaults")
	installed, err := os.ReadFile(filepath.Join(root, "deploy", "base", "policy", "policy.yaml"))
	require.NoError(t, err)
	p, err := policy.Parse(installed)
	require.NoError(t, err)
	assert.Equal(t, policy.Default(), p, "deploy/base/policy/policy.yaml is not the default policy")
}

// TestDocLinks: every relative link of the README and docs/ names a file that exists, and every
// anchor into a Markdown file names one of its headings.
func TestDocLinks(t *testing.T) {
	root := testtool.RepoRoot()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	files = append(files, filepath.Join(root, "README.md"))
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	checked := 0
	for _, f := range files {
		text, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range link.FindAllStringSubmatch(string(text), -1) {
			target := m[1]
			if strings.Contains(target, "://") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			file := f
			if path != "" {
				file = filepath.Join(filepath.Dir(f), path)
			}
			rel, _ := filepath.Rel(root, f)
			checked++
			data, err := os.ReadFile(file)
			if !assert.NoError(t, err, "%s links %s", rel, target) || anchor == "" {
				continue
			}
			assert.Contains(t, anchors(string(data)), anchor, "%s links %s: no such heading", rel, target)
		}
	}
	assert.Greater(t, checked, 30, "the links were found")
}

// anchors returns the GitHub anchors of the Markdown headings of text.
func anchors(text string) []string {
	var out []string
	drop := regexp.MustCompile("[^a-z0-9 _-]")
	for _, line := range strings.Split(text, "\n") {
		if h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok && strings.HasPrefix(line, "#") {
			out = append(out, strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-"))
		}
	}
	return out
}
