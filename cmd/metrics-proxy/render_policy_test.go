package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/names"
)

// runCLIExit runs the CLI with stdin and returns its outputs and exit status.
func runCLIExit(stdin string, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), goldenVersion, args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestRenderFollowsPolicy: render --policy writes what the policy allows: the output passes
// validate with the same policy (render without it does not, so the check can fail), its configs
// pass the real haproxy -c, and metrics-reader may GET exactly the policy's paths.
func TestRenderFollowsPolicy(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`apiVersion: metrics-proxy.io/v1alpha1
kind: Policy
allowedPaths: [/metrics, /metrics/slis, /metrics/resources]
allowedMethods: [GET, HEAD]
components: [kube-proxy, kube-scheduler]
frontendTLS: {kube-proxy: required, kube-scheduler: forbidden}
`), 0o644))
	plain, _, code := runCLIExit("", "render")
	require.Equal(t, exitOK, code)
	_, errOut, code := runCLIExit(plain, "validate", "--policy", file, "-")
	require.Equal(t, exitRejected, code, "render without the policy must not satisfy it: %s", errOut)

	out, errOut, code := runCLIExit("", "render", "--policy", file)
	require.Equal(t, exitOK, code, errOut)
	_, errOut, code = runCLIExit(out, "validate", "--policy", file, "-")
	assert.Equal(t, exitOK, code, "render --policy output fails validate --policy:\n%s", errOut)

	haproxy := testtool.HAProxy(t)
	var role rbacv1.ClusterRole
	configs := 0
	for _, doc := range strings.Split(out, "\n---\n") {
		var meta struct{ Kind string }
		require.NoError(t, yaml.Unmarshal([]byte(doc), &meta))
		switch meta.Kind {
		case "ClusterRole":
			require.NoError(t, yaml.Unmarshal([]byte(doc), &role))
		case "ConfigMap":
			var cm corev1.ConfigMap
			require.NoError(t, yaml.Unmarshal([]byte(doc), &cm))
			cfg := cm.Data[names.ConfigKey]
			assert.Contains(t, cfg, "http-request deny if !{ path /metrics /metrics/slis /metrics/resources }")
			assert.Contains(t, cfg, "http-request deny unless { method GET HEAD }")
			assert.NotContains(t, cfg, "frontend etcd")
			// haproxy -c cannot read the per-node certificate made at pod start: check without TLS.
			path := filepath.Join(dir, cm.Name+".cfg")
			require.NoError(t, os.WriteFile(path, []byte(strings.ReplaceAll(cfg, " ssl crt "+names.CertFile, "")), 0o600))
			cmd := exec.Command(haproxy, "-c", "-f", path)
			cmd.Env = append(os.Environ(), names.NodeIPEnv+"=127.0.0.1")
			res, err := cmd.CombinedOutput()
			require.NoError(t, err, "haproxy -c:\n%s", res)
			configs++
		}
	}
	assert.Equal(t, 2, configs)
	require.Len(t, role.Rules, 1)
	assert.Equal(t, []string{"/metrics", "/metrics/slis", "/metrics/resources"}, role.Rules[0].NonResourceURLs)

	_, errOut, code = runCLIExit("", "render", "--policy", file, "--components", "etcd")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "component etcd: the policy allows only kube-proxy,kube-scheduler")
	_, errOut, code = runCLIExit("", "render", "--policy", file, "--tls", "none")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "the policy requires TLS on the kube-proxy frontend")
}

// TestRenderDedicatedNamespace: render puts the proxies in a namespace of their own by default,
// printed first with the Pod Security level host-network pods need; a namespace the user names
// is theirs and not printed.
func TestRenderDedicatedNamespace(t *testing.T) {
	out, _, code := runCLIExit("", "render")
	require.Equal(t, exitOK, code)
	first := strings.SplitN(out, "\n---\n", 2)[0]
	var ns corev1.Namespace
	require.NoError(t, yaml.Unmarshal([]byte(first), &ns))
	assert.Equal(t, "Namespace", ns.Kind)
	assert.Equal(t, names.DedicatedNamespace, ns.Name)
	assert.Equal(t, "privileged", ns.Labels["pod-security.kubernetes.io/enforce"])
	assert.Equal(t, strings.Count(out, "namespace: "+names.DedicatedNamespace+"\n"), 4, "both ConfigMaps and DaemonSets are in it:\n%s", out)
	assert.NotContains(t, out, names.NamespaceInjectionLabel, "the stubs opt in by label: no namespace is enabled")

	out, _, code = runCLIExit("", "render", "--namespace", "monitoring")
	require.Equal(t, exitOK, code)
	assert.NotContains(t, out, "kind: Namespace")
	out, _, code = runCLIExit("", "render", "--namespace", "ops", "--create-namespace")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "kind: Namespace\nmetadata:\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n  name: ops\n")
}

// TestInjectWarns: inject says on standard error what the webhook would warn about.
func TestInjectWarns(t *testing.T) {
	in := `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: p, namespace: ns, labels: {metrics-proxy.io/inject: "true"}}
spec: {template: {spec: {containers: [{name: haproxy, image: "registry.example/haproxy:3.0.11"}]}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter, namespace: ns}
spec: {template: {spec: {containers: [{name: node-exporter, image: "quay.io/prometheus/node-exporter:v1.8.0"}]}}}
`
	out, errOut, code := runCLIExit(in, "inject", "--namespace-enabled")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "metrics-proxy: <stdin>: document 1: DaemonSet ns/p: warning: container haproxy: image registry.example/haproxy:3.0.11 kept, moved to the annotation metrics-proxy.io/image")
	assert.Contains(t, errOut, "metrics-proxy: <stdin>: document 2: DaemonSet ns/node-exporter: warning: DaemonSet ns/node-exporter (containers: node-exporter) is not a metrics proxy")
	assert.Contains(t, out, "metrics-proxy.io/image: registry.example/haproxy:3.0.11")
}
