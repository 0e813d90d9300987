package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestCLIErrors: every failure names what failed and exits with the documented code.
func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	ds := "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: p\n"
	badYAML := write("bad.yaml", ds+"---\nkind: [unclosed\n")
	notObject := write("list.yaml", "- a\n- b\n")
	noKind := write("nokind.yaml", "metadata: {name: x}\n")
	badAnnotation := write("annotation.yaml", ds+"  annotations:\n    metrics-proxy.io/components: kube-proxy,kubelet\n")
	badImage := write("image.yaml", ds+"  annotations:\n    metrics-proxy.io/image: 'Not An Image'\n")
	wrongType := write("wrongtype.yaml", ds+"spec:\n  template:\n    spec:\n      containers: 3\n")
	list := write("list-kind.yaml", "apiVersion: v1\nkind: List\nitems:\n- "+strings.ReplaceAll(ds, "\n", "\n  ")+"\n")

	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  []string
	}{
		{"malformed YAML names file and document", []string{"inject", "-f", badYAML}, "", exitUsage, []string{badYAML, "document 2"}},
		{"a list is not an object", []string{"inject", "-f", notObject}, "", exitUsage, []string{notObject, "document 1", "not a mapping"}},
		{"no kind", []string{"inject", "-f", noKind}, "", exitUsage, []string{"document 1", "apiVersion and kind"}},
		{"stdin is named", []string{"inject", "-f", "-"}, "a: [", exitUsage, []string{"<stdin>: document 1"}},
		{"missing file", []string{"inject", "-f", filepath.Join(dir, "absent.yaml")}, "", exitUsage, []string{"absent.yaml"}},
		{"a List is refused by inject", []string{"inject", "-f", list}, "", exitUsage, []string{list, "document 1", "a List", "split it first"}},
		{"unknown component is rejected", []string{"inject", "--namespace-enabled", "-f", badAnnotation}, "", exitRejected,
			[]string{"document 1", "DaemonSet p", "metrics-proxy.io/components", `"kube-proxy,kubelet"`, `unknown component "kubelet"`}},
		{"bad image is rejected", []string{"inject", "--namespace-enabled", "-f", badImage}, "", exitRejected, []string{"metrics-proxy.io/image", `"Not An Image"`}},
		{"wrong field type", []string{"inject", "--namespace-enabled", "-f", wrongType}, "", exitUsage, []string{"document 1", "DaemonSet"}},
		{"render: unknown component", []string{"render", "--components", "kubelet"}, "", exitUsage, []string{"--components", "kubelet"}},
		{"render: bad scraper", []string{"render", "--scraper", "prometheus"}, "", exitUsage, []string{"--scraper", "NAMESPACE/SERVICEACCOUNT"}},
		{"render: bad namespace", []string{"render", "--namespace", "Not_A_Namespace"}, "", exitUsage, []string{"namespace", `"Not_A_Namespace"`, "not a valid name"}},
		{"render: bad scraper namespace", []string{"render", "--scraper", "Bad.NS/prometheus"}, "", exitUsage, []string{"--scraper", `"Bad.NS"`}},
		{"render: tls on a component not proxied", []string{"render", "--components", "kube-proxy", "--tls", "etcd"}, "", exitUsage, []string{"tls", "etcd is not proxied"}},
		{"render: tls unknown", []string{"render", "--tls", "everything"}, "", exitUsage, []string{"tls", `"everything"`}},
		{"render: bad tls secret", []string{"render", "--tls-secret", "Bad_Secret"}, "", exitUsage, []string{"tls secret", `"Bad_Secret"`}},
		{"render: certificate without a secret", []string{"render", "--cert-manager-issuer", "ca"}, "", exitUsage, []string{"cert-manager:", "--tls-secret"}},
		{"render: certificate names without an issuer", []string{"render", "--cert-dns-names", "a.example"}, "", exitUsage, []string{"--cert-manager-issuer"}},
		{"render: bad issuer kind", []string{"render", "--tls-secret", "s", "--cert-manager-issuer", "Vault/ca"}, "", exitUsage, []string{"--cert-manager-issuer", `kind "Vault"`}},
		{"render: unknown prometheus", []string{"render", "--prometheus", "kps"}, "", exitUsage, []string{"prometheus", `"kps"`, "operator", "scrape-config"}},
		{"serve: a bad flag before any cluster", []string{"serve", "--cert-mode", "bogus", "--kubeconfig", filepath.Join(dir, "absent-kubeconfig")}, "", exitUsage,
			[]string{"--cert-mode", "bogus"}},
		{"serve: a bad --reinject before any cluster", []string{"serve", "--reinject", "always", "--kubeconfig", filepath.Join(dir, "absent-kubeconfig")}, "", exitUsage,
			[]string{"--reinject", `"always": want off or stale`}},
		{"serve: a bad log format before any cluster", []string{"serve", "--log-format", "xml", "--kubeconfig", filepath.Join(dir, "absent-kubeconfig")}, "", exitUsage,
			[]string{"--log-format", "xml"}},
		{"unknown command", []string{"frobnicate"}, "", exitUsage, []string{"frobnicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), goldenVersion, tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			assert.Equal(t, tt.code, code, "stderr: %s", stderr.String())
			for _, w := range tt.want {
				assert.Contains(t, stderr.String(), w)
			}
			assert.Empty(t, stdout.String(), "nothing half-written on failure")
		})
	}
}

// TestInjectStdin: "-", and no file at all, read standard input.
func TestInjectStdin(t *testing.T) {
	stub := "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: p, namespace: obs, labels: {metrics-proxy.io/inject: \"true\"}}\nspec: {template: {spec: {containers: []}}}\n"
	for _, args := range [][]string{{"inject", "-f", "-"}, {"inject", "-"}, {"inject"}} {
		var stdout, stderr bytes.Buffer
		require.Equal(t, exitOK, run(context.Background(), goldenVersion, args, strings.NewReader(stub), &stdout, &stderr), stderr.String())
		var ds appsv1.DaemonSet
		require.NoError(t, yaml.UnmarshalStrict(stdout.Bytes(), &ds), "%v", args)
		require.Len(t, ds.Spec.Template.Spec.Containers, 1, "%v", args)
		assert.Equal(t, names.ContainerName, ds.Spec.Template.Spec.Containers[0].Name)
		assert.Contains(t, ds.Annotations, names.StatusAnnotation)
		assert.Empty(t, stderr.String(), "a labelled DaemonSet needs no remark")
	}
}

// TestInjectFollowsLabels: like the webhook, inject injects a DaemonSet without its own label only
// when told that its namespace has injection enabled, and names each such DaemonSet on stderr.
func TestInjectFollowsLabels(t *testing.T) {
	const unlabelled = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: obs}\nspec: {template: {spec: {containers: []}}}\n"
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), goldenVersion, []string{"inject"}, strings.NewReader(unlabelled), &stdout, &stderr), stderr.String())
	assert.Equal(t, unlabelled, stdout.String(), "left as written")
	assert.Contains(t, stderr.String(), "DaemonSet obs/agent has no metrics-proxy.io/inject label: left as it is")

	stdout.Reset()
	stderr.Reset()
	require.Equal(t, exitOK, run(context.Background(), goldenVersion, []string{"inject", "--namespace-enabled"}, strings.NewReader(unlabelled), &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), names.StatusAnnotation, "injected")
	assert.Contains(t, stderr.String(), "DaemonSet obs/agent has no metrics-proxy.io/inject label: injected (--namespace-enabled)")

	optedOut := strings.Replace(unlabelled, "namespace: obs}", "namespace: obs, labels: {metrics-proxy.io/inject: \"false\"}}", 1)
	stdout.Reset()
	stderr.Reset()
	require.Equal(t, exitOK, run(context.Background(), goldenVersion, []string{"inject", "--namespace-enabled"}, strings.NewReader(optedOut), &stdout, &stderr), stderr.String())
	assert.Equal(t, optedOut, stdout.String())
	assert.Empty(t, stderr.String())
}

// TestRender: the rendered setup is the seed's, parametrised, and its stub injects into a proxy
// that mounts the rendered ConfigMap.
func TestRender(t *testing.T) {
	out := runCLI(t, "render", "--namespace", "monitoring", "--components", "etcd,kube-scheduler", "--scraper", "prom/scraper")
	docs, err := manifest.Read(bytes.NewReader(out))
	require.NoError(t, err)
	require.Len(t, docs, 4)

	var cm corev1.ConfigMap
	require.NoError(t, yaml.UnmarshalStrict(docs[0].YAML, &cm))
	assert.Equal(t, "monitoring", cm.Namespace)
	assert.Equal(t, names.ConfigLabelValue, cm.Labels[names.ConfigLabel])
	assert.Contains(t, cm.Data[names.ConfigKey], "bind ${NODE_IP}:2381")
	assert.Contains(t, cm.Data[names.ConfigKey], "bind ${NODE_IP}:10259")
	assert.NotContains(t, cm.Data[names.ConfigKey], "10249")

	var role rbacv1.ClusterRole
	require.NoError(t, yaml.UnmarshalStrict(docs[2].YAML, &role))
	assert.Equal(t, []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}, role.Rules)
	var binding rbacv1.ClusterRoleBinding
	require.NoError(t, yaml.UnmarshalStrict(docs[3].YAML, &binding))
	assert.Equal(t, manifest.MetricsReaderRole, binding.RoleRef.Name)
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: "scraper", Namespace: "prom"}}, binding.Subjects)

	injected, _, err := manifest.Inject(docs, inject.Config{Version: goldenVersion}, false)
	require.NoError(t, err)
	var ds appsv1.DaemonSet
	require.NoError(t, yaml.UnmarshalStrict(injected[1].YAML, &ds))
	assert.Equal(t, "true", ds.Labels[names.InjectLabel])
	pod := ds.Spec.Template.Spec
	require.Len(t, pod.Containers, 1)
	assert.Len(t, pod.Containers[0].Ports, 2, "one port per rendered component")
	assert.Equal(t, cm.Name, pod.Volumes[0].ConfigMap.Name, "the stub mounts the rendered ConfigMap")
	assert.Equal(t, docs[0].YAML, injected[0].YAML, "the rendered ConfigMap is complete already")
}

func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), "v9.9.9-test", []string{"version"}, strings.NewReader(""), &stdout, &stderr))
	assert.Equal(t, "metrics-proxy v9.9.9-test\n", stdout.String())
}

// TestRootHelpNamesEveryCommand: the root help's description names every subcommand.
func TestRootHelpNamesEveryCommand(t *testing.T) {
	root := newRootCommand(goldenVersion, strings.NewReader(""), io.Discard, io.Discard)
	require.NotEmpty(t, root.Commands())
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		assert.Contains(t, root.Long, `"`+c.Name()+`"`, "the root help does not describe %s", c.Name())
	}
}

// TestDefaultImageFlagIsShared: serve, inject and validate offer the same --default-image.
func TestDefaultImageFlagIsShared(t *testing.T) {
	root := newRootCommand(goldenVersion, strings.NewReader(""), io.Discard, io.Discard)
	want := ""
	for _, name := range []string{"serve", "inject", "validate"} {
		c, _, err := root.Find([]string{name})
		require.NoError(t, err)
		f := c.Flags().Lookup("default-image")
		require.NotNil(t, f, "%s has no --default-image", name)
		assert.Equal(t, names.DefaultImage, f.DefValue, name)
		if want == "" {
			want = f.Usage
		}
		assert.Equal(t, want, f.Usage, name)
	}
}

// TestVersionFlag: --version prints what the version command prints.
func TestVersionFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run(context.Background(), "v9.9.9-test", []string{"--version"}, strings.NewReader(""), &stdout, &stderr))
	assert.Equal(t, "metrics-proxy v9.9.9-test\n", stdout.String())
}

// TestBuildVersion: the linker's version wins; else the module version the go command recorded,
// else the VCS revision; "dev" only when nothing is known.
func TestBuildVersion(t *testing.T) {
	info := func(version string, settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) {
			return &debug.BuildInfo{Main: debug.Module{Version: version}, Settings: settings}, true
		}
	}
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "0123456789abcdef0123"}
	tests := []struct {
		name, set, want string
		read            func() (*debug.BuildInfo, bool)
	}{
		{"ldflags", "v1.2.3", "v1.2.3", info("v0.0.0-x")},
		{"module version", "", "v0.3.1-0.20261201120000-0123456789ab+dirty", info("v0.3.1-0.20261201120000-0123456789ab+dirty", rev)},
		{"devel with a revision", "", "0123456789ab", info("(devel)", rev)},
		{"devel, modified", "", "0123456789ab-dirty", info("(devel)", rev, debug.BuildSetting{Key: "vcs.modified", Value: "true"})},
		{"nothing known", "", "dev", info("(devel)")},
		{"no build info", "", "dev", func() (*debug.BuildInfo, bool) { return nil, false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, buildVersion(tt.set, tt.read))
		})
	}
}

// TestPlainGoBuildReportsAVersion: a plain go build of this checkout reports a version from its
// build information, not "dev".
func TestPlainGoBuildReportsAVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skip("not a git checkout: no VCS information to embed")
	}
	if info, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err != nil || !info.IsDir() {
		t.Skip("a git worktree: the go command stamps VCS information only in a checkout with a .git directory")
	}
	bin := filepath.Join(t.TempDir(), "metrics-proxy")
	build := exec.Command("go", "build", "-o", bin, ".")
	// Go's default; a machine-wide GOFLAGS=-buildvcs=false would leave nothing to report.
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=auto")
	out, err := build.CombinedOutput()
	require.NoError(t, err, string(out))
	out, err = exec.Command(bin, "version").CombinedOutput()
	require.NoError(t, err, string(out))
	got := strings.TrimSpace(strings.TrimPrefix(string(out), "metrics-proxy "))
	assert.NotEqual(t, "dev", got)
	assert.NotEmpty(t, got)
}
