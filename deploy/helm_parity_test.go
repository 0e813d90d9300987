package deploy_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// parityCases pair chart values with the kustomization that installs the same thing.
var parityCases = []struct{ name, values, dir string }{
	{name: "defaults are self-signed", values: "", dir: "overlays/self-signed"},
	{name: "self-signed", values: "certificate: {mode: self-signed}", dir: "overlays/self-signed"},
	{name: "cert-manager", values: "certificate: {mode: cert-manager}", dir: "overlays/cert-manager"},
	{name: "files", values: "certificate: {mode: files}", dir: "base"},
	{name: "scraper RBAC", dir: scraperExample, values: `
certificate: {mode: cert-manager}
scraperRBAC:
  enabled: true
  subjects: [{kind: ServiceAccount, name: prometheus-k8s, namespace: observability}]`},
	{name: "TLS Secret rollout", dir: "testdata/tls-secret-rollout", values: "tlsSecretRollout: {enabled: true}"},
}

// kustomizeOnly are the objects kustomize installs and the chart does not: Helm's release
// namespace belongs to the user (`helm install --namespace`), who labels it (README).
var kustomizeOnly = []string{"Namespace//" + Namespace}

// TestChartMatchesKustomize renders the chart (Helm's SDK) and builds the kustomization
// (krusty) and requires the same objects, field for field, once normalised: the chart's own
// labels (helmLabels, checked first) are dropped and the policy file is compared as YAML, not as
// text (kustomize's carries comments). Any other difference, an object only one of them has
// included, fails: a change to deploy/base or an overlay must be made to the chart too.
func TestChartMatchesKustomize(t *testing.T) {
	labels := helmLabels(t)
	for _, tc := range parityCases {
		t.Run(tc.name, func(t *testing.T) {
			want := index(t, kustomize(t, tc.dir).objects, nil)
			got := index(t, mustRender(t, Namespace, tc.values).objects, labels)
			for _, key := range slices.Sorted(maps.Keys(want)) {
				if slices.Contains(kustomizeOnly, key) {
					assert.NotContains(t, got, key, "the chart renders %s", key)
					continue
				}
				if !assert.Contains(t, got, key, "the chart lacks %s that %s installs", key, tc.dir) {
					continue
				}
				assert.Equal(t, want[key], got[key], "%s: chart and %s differ", key, tc.dir)
			}
			for _, key := range slices.Sorted(maps.Keys(got)) {
				assert.Contains(t, want, key, "the chart renders %s that %s does not install", key, tc.dir)
			}
		})
	}
}

// helmLabels are the labels the chart adds to every object's metadata, beside deploy/'s
// app.kubernetes.io/name, with the values they must have: Helm's recommended chart, managed-by
// and instance labels. Selectors and pod template labels get none of them.
func helmLabels(t *testing.T) map[string]string {
	t.Helper()
	c := loadChart(t)
	return map[string]string{
		"helm.sh/chart":                fmt.Sprintf("%s-%s", c.Metadata.Name, c.Metadata.Version),
		"app.kubernetes.io/managed-by": "Helm",
		"app.kubernetes.io/instance":   releaseName,
	}
}

// index normalises objects and keys them by kind, namespace and name, as YAML (a readable diff).
// With labels, every object must carry them with those values; they are then removed.
func index(t *testing.T, objects []*unstructured.Unstructured, labels map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, o := range objects {
		o = o.DeepCopy()
		key := o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
		if labels != nil {
			have := o.GetLabels()
			for k, v := range labels {
				assert.Equal(t, v, have[k], "%s: label %s", key, k)
				delete(have, k)
			}
			o.SetLabels(have)
		}
		if o.GetKind() == "ConfigMap" {
			normalisePolicy(t, o)
		}
		data, err := yaml.Marshal(o.Object)
		require.NoError(t, err)
		require.NotContains(t, out, key, "two objects %s", key)
		out[key] = string(data)
	}
	return out
}

// normalisePolicy replaces the policy file's text by its parsed YAML.
func normalisePolicy(t *testing.T, cm *unstructured.Unstructured) {
	t.Helper()
	text, ok, err := unstructured.NestedString(cm.Object, "data", "policy.yaml")
	require.NoError(t, err)
	if !ok {
		return
	}
	parsed := map[string]any{}
	require.NoError(t, yaml.Unmarshal([]byte(text), &parsed), "policy.yaml of %s", cm.GetName())
	require.NoError(t, unstructured.SetNestedField(cm.Object, parsed, "data", "policy.yaml"))
}
