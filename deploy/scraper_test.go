package deploy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/manifest"
)

// scraperExample is a user's kustomization with the scraper component and a patched subject.
const scraperExample = "testdata/scraper"

// TestScraperComponent: the component adds the seed's metrics-reader ClusterRole, the same one
// `metrics-proxy render` prints (GET /metrics, nothing else), and a binding whose placeholder
// subject a user's patch replaces.
func TestScraperComponent(t *testing.T) {
	b := kustomize(t, scraperExample)
	role := &rbacv1.ClusterRole{}
	b.get(t, "ClusterRole", manifest.MetricsReaderRole, role)
	assert.Equal(t, renderedReader(t).Rules, role.Rules)

	binding := &rbacv1.ClusterRoleBinding{}
	b.get(t, "ClusterRoleBinding", manifest.MetricsReaderBinding, binding)
	assert.Equal(t, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: manifest.MetricsReaderRole}, binding.RoleRef)
	assert.Equal(t, []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "prometheus-k8s", Namespace: "observability"}},
		binding.Subjects)
	assertNoWildcards(t, b)

	_, ok := b.find("Deployment", deploymentName)
	assert.True(t, ok, "the component comes on top of an overlay")
}

// renderedReader is the metrics-reader ClusterRole of `metrics-proxy render`.
func renderedReader(t *testing.T) *rbacv1.ClusterRole {
	t.Helper()
	docs, err := manifest.Render(manifest.RenderOptions{ScraperNamespace: "monitoring", ScraperServiceAccount: "prometheus"})
	require.NoError(t, err)
	for _, d := range docs {
		role := &rbacv1.ClusterRole{}
		if yaml.UnmarshalStrict(d.YAML, role) == nil && role.Kind == "ClusterRole" {
			return role
		}
	}
	t.Fatal("render prints no ClusterRole")
	return nil
}
