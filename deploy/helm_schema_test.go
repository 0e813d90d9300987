package deploy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint/support"
)

// TestChartSchemaRejects: values.schema.json refuses wrong values before anything is rendered,
// naming the value and what is wrong with it.
func TestChartSchemaRejects(t *testing.T) {
	cases := []struct {
		name, values string
		want         []string
	}{
		{"unknown mode", "certificate: {mode: selfsigned}", []string{"/certificate/mode", "'self-signed', 'cert-manager', 'files'"}},
		{"zero replicas", "replicaCount: 0", []string{"/replicaCount", "minimum"}},
		{"replicas as text", `replicaCount: "2"`, []string{"/replicaCount", "got string, want integer"}},
		{"misspelt top-level value", "replicas: 3", []string{"additional properties 'replicas' not allowed"}},
		{"empty image tag", "image: {repository: metrics-proxy, tag: ''}", []string{"/image/tag"}},
		{"tag in the repository", "image: {repository: 'registry.example/metrics-proxy:v1'}", []string{"/image/repository"}},
		{"pull policy", "image: {pullPolicy: always}", []string{"/image/pullPolicy", "'Always', 'IfNotPresent', 'Never'"}},
		{"not a quantity", "resources: {limits: {memory: 256MB}}", []string{"/resources/limits/memory"}},
		{"policy enforcement", "policy: {enforcement: deny}", []string{"/policy/enforcement", "'Deny', 'Warn'"}},
		{"misspelt policy field", "policy: {enforcment: Warn}", []string{"/policy", "additional properties 'enforcment' not allowed"}},
		{"unknown component", "policy: {components: [kube-apiserver]}", []string{"/policy/components/0", "'kube-proxy'"}},
		{"relative path", "policy: {allowedPaths: [metrics]}", []string{"/policy/allowedPaths/0"}},
		{"no allowed path", "policy: {allowedPaths: []}", []string{"/policy/allowedPaths", "minItems"}},
		{"allowed container without image", "policy: {allowedContainers: [{name: reloader}]}",
			[]string{"/policy/allowedContainers/0", "missing property 'image'"}},
		{"allowed container named haproxy", "policy: {allowedContainers: [{name: haproxy, image: 'haproxy:*'}]}",
			[]string{"/policy/allowedContainers/0/name"}},
		{"allowed container not a DNS label", "policy: {allowedContainers: [{name: Reloader, image: 'r:*'}]}",
			[]string{"/policy/allowedContainers/0/name"}},
		{"misspelt allowed container field", "policy: {allowedContainers: [{name: r, image: 'r:*', tag: v1}]}",
			[]string{"/policy/allowedContainers/0", "additional properties 'tag' not allowed"}},
		{"bad namespace", "excludedNamespaces: [Kube_System]", []string{"/excludedNamespaces/0"}},
		{"timeout", "webhook: {timeoutSeconds: 60}", []string{"/webhook/timeoutSeconds", "maximum"}},
		{"service account without namespace", "scraperRBAC: {enabled: true, subjects: [{kind: ServiceAccount, name: prometheus}]}",
			[]string{"/scraperRBAC/subjects/0", "missing property 'namespace'"}},
		{"not a flag", "extraArgs: [serve]", []string{"/extraArgs/0"}},
		{"caBundle not base64", "certificate: {mode: files, caBundle: '-----BEGIN CERTIFICATE-----'}", []string{"/certificate/caBundle"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := helmRender(t, Namespace, tc.values)
			require.Error(t, err, "values %q are accepted", tc.values)
			assert.Contains(t, err.Error(), "values don't meet the specifications of the schema")
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestChartRejectsContradictions: values the schema cannot judge alone fail the render with a
// message that says what to do.
func TestChartRejectsContradictions(t *testing.T) {
	cases := []struct{ name, values, want string }{
		{"caBundle outside files mode", "certificate: {caBundle: Q0EK}",
			"certificate.caBundle is for files mode only: in self-signed mode the caBundle is kept current for you"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := helmRender(t, Namespace, tc.values)
			require.Error(t, err, "values %q are accepted", tc.values)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestChartLint is `helm lint --strict` through the SDK, for the defaults and each mode: no
// warning, no error (information messages such as "icon is recommended" are allowed).
func TestChartLint(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion(minKubeVersion)
	require.NoError(t, err)
	for _, values := range []string{"", "certificate: {mode: cert-manager}", "certificate: {mode: files, caBundle: Zm9v}",
		"scraperRBAC: {enabled: true}\nnetworkPolicy: {enabled: true}\nexcludedNamespaces: [kube-system]\nreplicaCount: 1"} {
		t.Run(values, func(t *testing.T) {
			lint := action.NewLint()
			lint.Strict, lint.Namespace, lint.KubeVersion = true, Namespace, kv
			res := lint.Run([]string{chartDir}, parseValues(t, values))
			assert.Equal(t, 1, res.TotalChartsLinted)
			assert.Empty(t, res.Errors)
			for _, m := range res.Messages {
				assert.Less(t, m.Severity, support.WarningSev, "%s", m)
			}
		})
	}
}

// TestChartLintCatchesBrokenValues: the same lint fails on values the schema refuses, so the
// lint above is not vacuous.
func TestChartLintCatchesBrokenValues(t *testing.T) {
	lint := action.NewLint()
	lint.Strict, lint.Namespace = true, Namespace
	res := lint.Run([]string{chartDir}, parseValues(t, "certificate: {mode: none}"))
	require.NotEmpty(t, res.Messages)
	var worst int
	for _, m := range res.Messages {
		worst = max(worst, m.Severity)
	}
	assert.Equal(t, support.ErrorSev, worst)
}
