package deploy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// TestSystemNamespacesNeverSelected: no webhook entry selects the namespaces the cluster needs or
// the webhook's own, even labelled for injection, while an ordinary enabled namespace still is.
func TestSystemNamespacesNeverSelected(t *testing.T) {
	system := []string{"kube-system", "kube-public", "kube-node-lease", Namespace}
	forEachVariant(t, func(t *testing.T, _ variant, b *built) {
		mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
		b.get(t, "MutatingWebhookConfiguration", webhookConfigurationName, mutating)
		validating := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		b.get(t, "ValidatingWebhookConfiguration", webhookConfigurationName, validating)
		selectors := map[string]*metav1.LabelSelector{}
		for _, w := range mutating.Webhooks {
			selectors[w.Name] = w.NamespaceSelector
		}
		for _, w := range validating.Webhooks {
			selectors[w.Name] = w.NamespaceSelector
		}
		require.NotEmpty(t, selectors)
		for name, sel := range selectors {
			require.NotNil(t, sel, "%s has no namespaceSelector: it selects every namespace", name)
			s, err := metav1.LabelSelectorAsSelector(sel)
			require.NoError(t, err, name)
			for _, ns := range system {
				l := labels.Set{"kubernetes.io/metadata.name": ns, "metrics-proxy.io/injection": "enabled"}
				assert.False(t, s.Matches(l), "%s selects namespace %s", name, ns)
			}
			// annotated.daemonsets selects only namespaces without injection (the namespaced entry
			// covers the enabled ones); every entry selects an ordinary namespace of one kind or the other.
			enabled := s.Matches(labels.Set{"kubernetes.io/metadata.name": "monitoring", "metrics-proxy.io/injection": "enabled"})
			plain := s.Matches(labels.Set{"kubernetes.io/metadata.name": "monitoring"})
			assert.True(t, enabled || plain, "%s still selects an ordinary namespace", name)
			assert.Equal(t, name != "annotated.daemonsets.validate.metrics-proxy.io", enabled, "%s selects an enabled namespace", name)
		}
	})
}

// TestNetworkPolicy: the server's pods admit the webhook port from anywhere, the metrics port from
// Prometheus pods only, and nothing else (the probe port is not opened).
func TestNetworkPolicy(t *testing.T) {
	forEachVariant(t, func(t *testing.T, _ variant, b *built) {
		d, c := deployment(t, b)
		np := &networkingv1.NetworkPolicy{}
		b.get(t, "NetworkPolicy", deploymentName, np)
		assert.Equal(t, d.Spec.Selector.MatchLabels, np.Spec.PodSelector.MatchLabels)
		assert.Equal(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, np.Spec.PolicyTypes)
		open := map[string][]networkingv1.NetworkPolicyPeer{}
		for _, rule := range np.Spec.Ingress {
			require.NotEmpty(t, rule.Ports, "a rule without ports opens every port")
			for _, p := range rule.Ports {
				require.NotNil(t, p.Port)
				containerPort(t, c, p.Port.StrVal) // names a port of the container
				open[p.Port.StrVal] = append(open[p.Port.StrVal], rule.From...)
			}
		}
		assert.ElementsMatch(t, []string{"webhook", "metrics"}, keys(open))
		assert.Empty(t, open["webhook"], "the API server's address is unknown here: the webhook port is open to all")
		require.Len(t, open["metrics"], 1)
		peer := open["metrics"][0]
		require.NotNil(t, peer.PodSelector)
		assert.Equal(t, map[string]string{"app.kubernetes.io/name": "prometheus"}, peer.PodSelector.MatchLabels)
	})
}

// TestMemoryLimit: the server learns its container's memory limit from the downward API, to set
// the Go runtime's soft limit below it.
func TestMemoryLimit(t *testing.T) {
	forEachVariant(t, func(t *testing.T, _ variant, b *built) {
		_, c := deployment(t, b)
		limit := c.Resources.Limits[corev1.ResourceMemory]
		require.False(t, limit.IsZero(), "a memory limit")
		var ref *corev1.ResourceFieldSelector
		for _, e := range c.Env {
			if e.Name == "MEMORY_LIMIT" && e.ValueFrom != nil {
				ref = e.ValueFrom.ResourceFieldRef
			}
		}
		require.NotNil(t, ref, "MEMORY_LIMIT from a resourceFieldRef")
		assert.Equal(t, c.Name, ref.ContainerName)
		assert.Equal(t, "limits.memory", ref.Resource)
		assert.True(t, ref.Divisor.Equal(resource.MustParse("1")), "in bytes: serve reads a plain number")
	})
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
