package manifest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// rendered decodes Render's ConfigMaps and DaemonSets by name.
func rendered(t *testing.T, o manifest.RenderOptions) (map[string]corev1.ConfigMap, map[string]appsv1.DaemonSet) {
	t.Helper()
	docs, err := manifest.Render(o)
	require.NoError(t, err)
	cms, dss := map[string]corev1.ConfigMap{}, map[string]appsv1.DaemonSet{}
	for _, d := range docs {
		var meta struct{ Kind string }
		require.NoError(t, yaml.Unmarshal(d.YAML, &meta))
		switch meta.Kind {
		case "ConfigMap":
			var cm corev1.ConfigMap
			require.NoError(t, yaml.UnmarshalStrict(d.YAML, &cm))
			cms[cm.Name] = cm
		case "DaemonSet":
			var ds appsv1.DaemonSet
			require.NoError(t, yaml.UnmarshalStrict(d.YAML, &ds))
			dss[ds.Name] = ds
		}
	}
	return cms, dss
}

// TestRenderTopology: the control-plane proxy runs on control-plane nodes with every component,
// the nodes proxy everywhere else with kube-proxy only; no proxy frontend points at a component
// its nodes do not run.
func TestRenderTopology(t *testing.T) {
	cms, dss := rendered(t, manifest.RenderOptions{Namespace: "monitoring"})
	require.Len(t, dss, 2)
	cp, nodes := dss[names.ControlPlaneDaemonSet], dss[names.NodesDaemonSet]
	assert.Equal(t, map[string]string{manifest.ControlPlaneLabel: ""}, cp.Spec.Template.Spec.NodeSelector)
	require.NotNil(t, nodes.Spec.Template.Spec.Affinity)
	term := nodes.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	assert.Equal(t, []corev1.NodeSelectorRequirement{{Key: manifest.ControlPlaneLabel, Operator: corev1.NodeSelectorOpDoesNotExist}}, term[0].MatchExpressions)
	assert.Equal(t, "kube-proxy", nodes.Annotations[names.ComponentsAnnotation])
	for name, ds := range dss {
		assert.Equal(t, name, ds.Annotations[names.ConfigMapAnnotation], "each proxy mounts its own ConfigMap")
		assert.Equal(t, cms[name].Annotations[names.TLSAnnotation], ds.Annotations[names.TLSAnnotation], "config and pod agree on TLS")
	}
	assert.Equal(t, inject.HAProxyConfig([]components.Component{mustLookup(t, "kube-proxy")}), cms[names.NodesDaemonSet].Data[names.ConfigKey])
	assert.Equal(t, inject.HAProxyConfigTLS(components.All(), components.DefaultTLS(components.All())), cms[names.ControlPlaneDaemonSet].Data[names.ConfigKey])

	// External etcd: --components drops it; without kube-proxy, no nodes proxy at all.
	cms, dss = rendered(t, manifest.RenderOptions{Components: []components.Component{mustLookup(t, "kube-proxy"), mustLookup(t, "kube-scheduler")}})
	assert.NotContains(t, cms[names.ControlPlaneDaemonSet].Data[names.ConfigKey], "2381")
	assert.Len(t, dss, 2)
	_, dss = rendered(t, manifest.RenderOptions{Components: []components.Component{mustLookup(t, "etcd")}})
	assert.Len(t, dss, 1)
	assert.Contains(t, dss, names.ControlPlaneDaemonSet)
}

// TestRenderComplies: every rendered config passes the default policy, and a policy that requires
// TLS on kube-controller-manager and kube-scheduler passes the default render and refuses the
// seed's all-HTTP one (--tls none), naming frontend-tls.
func TestRenderComplies(t *testing.T) {
	required := &policy.Policy{FrontendTLS: map[string]policy.TLSRequirement{
		"kube-controller-manager": policy.TLSRequired, "kube-scheduler": policy.TLSRequired}}
	forbidden := &policy.Policy{FrontendTLS: map[string]policy.TLSRequirement{"kube-proxy": policy.TLSForbidden}}
	tests := []struct {
		name             string
		tls              string
		requiredRejects  int
		forbiddenRejects int
	}{
		{name: "default"},
		{name: "none", tls: "none", requiredRejects: 2},
		{name: "all", tls: "kube-proxy,kube-controller-manager,kube-scheduler,etcd", forbiddenRejects: 2}, // both proxies serve kube-proxy
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cms, dss := rendered(t, manifest.RenderOptions{TLS: tt.tls})
			var requiredVs, forbiddenVs []policy.Violation
			for name, cm := range cms {
				cfg := []byte(cm.Data[names.ConfigKey])
				assert.Empty(t, policy.ValidateConfig(cfg, nil), name)
				requiredVs = append(requiredVs, policy.ValidateConfig(cfg, required)...)
				forbiddenVs = append(forbiddenVs, policy.ValidateConfig(cfg, forbidden)...)
				ds := dss[name]
				require.NoError(t, inject.DaemonSet(&ds, inject.Config{}))
				_, vs := policy.ValidateDaemonSet(&ds, nil)
				assert.Empty(t, vs, name)
			}
			assert.Len(t, requiredVs, tt.requiredRejects)
			assert.Len(t, forbiddenVs, tt.forbiddenRejects)
			for _, v := range append(requiredVs, forbiddenVs...) {
				assert.Equal(t, policy.RuleFrontendTLS, v.Rule, v.String())
			}
		})
	}
}

func mustLookup(t *testing.T, name string) components.Component {
	t.Helper()
	c, ok := components.Lookup(name)
	require.True(t, ok)
	return c
}
