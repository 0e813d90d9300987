package deploy_test

import (
	"testing"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestChartValues: each value reaches the objects it is for (the parity test covers the
// defaults and the certificate modes).
func TestChartValues(t *testing.T) {
	t.Run("replicas, image, resources, extra flags", func(t *testing.T) {
		b := mustRender(t, Namespace, `
replicaCount: 3
image: {repository: registry.example:5000/metrics-proxy, tag: v1.2.3, pullPolicy: Always}
resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {memory: 512Mi}}
extraArgs: [--log-format=text]
nodeSelector: {kubernetes.io/os: linux}
tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]`)
		d, c := deployment(t, b)
		assert.Equal(t, int32(3), *d.Spec.Replicas)
		assert.Equal(t, "registry.example:5000/metrics-proxy:v1.2.3", c.Image)
		assert.Equal(t, corev1.PullAlways, c.ImagePullPolicy)
		// Helm merges maps: the default CPU limit stays unless set to null.
		for name, want := range map[string]corev1.ResourceList{
			"requests": {corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			"limits":   {corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
		} {
			have := map[string]corev1.ResourceList{"requests": c.Resources.Requests, "limits": c.Resources.Limits}[name]
			require.Len(t, have, len(want), name)
			for r, q := range want {
				assert.Zero(t, q.Cmp(have[r]), "%s %s: %s", name, r, have.Name(r, resource.DecimalSI))
			}
		}
		assert.Equal(t, "--log-format=text", c.Args[len(c.Args)-1])
		assert.Equal(t, map[string]string{"kubernetes.io/os": "linux"}, d.Spec.Template.Spec.NodeSelector)
		assert.Len(t, d.Spec.Template.Spec.Tolerations, 1)
		_, ok := b.find("PodDisruptionBudget", "metrics-proxy")
		assert.True(t, ok, "several replicas keep their PodDisruptionBudget")
	})

	t.Run("null removes a default resource", func(t *testing.T) {
		_, c := deployment(t, mustRender(t, Namespace, "resources: {limits: {cpu: null}}"))
		assert.NotContains(t, c.Resources.Limits, corev1.ResourceCPU)
		assert.Contains(t, c.Resources.Limits, corev1.ResourceMemory)
	})

	t.Run("one replica has no PodDisruptionBudget that would block drains", func(t *testing.T) {
		_, ok := mustRender(t, Namespace, "replicaCount: 1").find("PodDisruptionBudget", "metrics-proxy")
		assert.False(t, ok)
	})

	t.Run("the policy inline is a policy file the server parses", func(t *testing.T) {
		b := mustRender(t, Namespace, `
policy: {enforcement: Warn, allowedMethods: [GET, HEAD], components: [etcd], exemptNamespaces: [sandbox],
  allowedImages: ["haproxy:2.8.*"], allowedContainers: [{name: reloader, image: "registry.example/reloader:*"}]}`)
		cm := &corev1.ConfigMap{}
		b.get(t, "ConfigMap", "metrics-proxy-policy", cm)
		p, err := policy.Parse([]byte(cm.Data["policy.yaml"]))
		require.NoError(t, err, cm.Data["policy.yaml"])
		assert.Equal(t, policy.EnforcementWarn, p.Enforcement)
		assert.Equal(t, []string{"GET", "HEAD"}, p.AllowedMethods)
		assert.Equal(t, []string{"/metrics"}, p.AllowedPaths, "the chart's defaults fill what is not set")
		assert.Equal(t, []string{"haproxy:2.8.*"}, p.AllowedImages)
		require.Len(t, p.AllowedContainers, 1)
		assert.Equal(t, "reloader", p.AllowedContainers[0].Name)
	})

	t.Run("excluded namespaces, in another release namespace", func(t *testing.T) {
		b := mustRender(t, "ops", "excludedNamespaces: [kube-system, kube-node-lease]")
		for _, hooks := range webhookEntries(t, b) {
			for _, w := range hooks {
				require.NotNil(t, w.namespaceSelector, w.name)
				assert.Contains(t, w.namespaceSelector.MatchExpressions, metav1.LabelSelectorRequirement{
					Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpNotIn,
					Values: []string{"kube-system", "kube-node-lease", "ops"}}, w.name)
				assert.Equal(t, "ops", w.service.Namespace, w.name)
			}
		}
	})

	t.Run("the cluster's namespaces and the release's excluded by default, the release's always", func(t *testing.T) {
		for values, want := range map[string][]string{
			"":                        {"kube-system", "kube-public", "kube-node-lease", Namespace},
			"excludedNamespaces: []":  {Namespace},
			"excludedNamespaces: [a]": {"a", Namespace},
		} {
			for _, hooks := range webhookEntries(t, mustRender(t, Namespace, values)) {
				for _, w := range hooks {
					require.NotNil(t, w.namespaceSelector, "%q: %s", values, w.name)
					exprs := []metav1.LabelSelectorRequirement{{Key: corev1.LabelMetadataName,
						Operator: metav1.LabelSelectorOpNotIn, Values: want}}
					if w.name == "annotated.daemonsets.validate.metrics-proxy.io" { // namespaces without injection only
						exprs = append(exprs, metav1.LabelSelectorRequirement{Key: names.NamespaceInjectionLabel,
							Operator: metav1.LabelSelectorOpNotIn, Values: []string{"enabled"}})
					}
					assert.Equal(t, exprs, w.namespaceSelector.MatchExpressions, "%q: %s", values, w.name)
				}
			}
		}
	})

	t.Run("every namespaced object and reference follows the release namespace", func(t *testing.T) {
		b := mustRender(t, "ops", "certificate: {mode: cert-manager}\nnetworkPolicy: {enabled: true}")
		for _, o := range b.objects {
			switch o.GetKind() {
			case "ClusterRole", "ClusterRoleBinding", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration":
				assert.Empty(t, o.GetNamespace(), "%s %s", o.GetKind(), o.GetName())
				if o.GetKind() != "ClusterRole" && o.GetKind() != "ClusterRoleBinding" {
					assert.Equal(t, "ops/metrics-proxy-webhook", o.GetAnnotations()["cert-manager.io/inject-ca-from"])
				}
			default:
				assert.Equal(t, "ops", o.GetNamespace(), "%s %s", o.GetKind(), o.GetName())
			}
		}
		binding := &rbacv1.ClusterRoleBinding{}
		b.get(t, "ClusterRoleBinding", "metrics-proxy", binding)
		assert.Equal(t, "ops", binding.Subjects[0].Namespace)
		cert := &cmapi.Certificate{}
		b.get(t, "Certificate", servingCertificate, cert)
		assert.Equal(t, []string{"metrics-proxy-webhook.ops.svc", "metrics-proxy-webhook.ops.svc.cluster.local"}, cert.Spec.DNSNames)
	})

	t.Run("files mode sets the caBundle it is given", func(t *testing.T) {
		for _, hooks := range webhookEntries(t, mustRender(t, Namespace, "certificate: {mode: files, caBundle: Q0EK}")) {
			for _, w := range hooks {
				assert.Equal(t, []byte("CA\n"), w.caBundle, w.name)
			}
		}
	})

	t.Run("NetworkPolicy", func(t *testing.T) {
		_, ok := mustRender(t, Namespace, "").find("NetworkPolicy", "metrics-proxy")
		assert.True(t, ok, "on by default, as deploy/base")
		_, ok = mustRender(t, Namespace, "networkPolicy: {enabled: false}").find("NetworkPolicy", "metrics-proxy")
		assert.False(t, ok, "networkPolicy.enabled=false")
		np := &networkingv1.NetworkPolicy{}
		mustRender(t, Namespace, "networkPolicy: {enabled: true, metricsFrom: [{namespaceSelector: {matchLabels: {team: obs}}}]}").
			get(t, "NetworkPolicy", "metrics-proxy", np)
		assert.Equal(t, map[string]string{"app.kubernetes.io/name": "metrics-proxy", "app.kubernetes.io/component": "webhook"},
			np.Spec.PodSelector.MatchLabels)
		require.Len(t, np.Spec.Ingress, 2)
		assert.Equal(t, "webhook", np.Spec.Ingress[0].Ports[0].Port.String())
		assert.Empty(t, np.Spec.Ingress[0].From, "the API server's address is the cluster's")
		assert.Equal(t, "metrics", np.Spec.Ingress[1].Ports[0].Port.String())
		assert.Equal(t, map[string]string{"team": "obs"}, np.Spec.Ingress[1].From[0].NamespaceSelector.MatchLabels)
	})
}

// TestChartNotes: the NOTES say what to do next: wait for the servers, render the proxies into a
// namespace of their own (no namespace label), and remove the release in the safe order.
func TestChartNotes(t *testing.T) {
	_, notes, err := helmRender(t, Namespace, "")
	require.NoError(t, err)
	for _, want := range []string{
		"kubectl -n " + Namespace + " rollout status deployment/metrics-proxy",
		"metrics-proxy render --scraper monitoring/prometheus | kubectl apply -f -",
		"| kubectl delete -f -",
		"kubectl delete mutatingwebhookconfiguration,validatingwebhookconfiguration metrics-proxy\n     helm uninstall " + releaseName,
	} {
		assert.Contains(t, notes, want)
	}
	assert.NotContains(t, notes, "kubectl label namespace monitoring", "the NOTES enable no shared namespace")
	_, notes, err = helmRender(t, Namespace, "certificate: {mode: files}")
	require.NoError(t, err)
	assert.Contains(t, notes, "create the Secret metrics-proxy-webhook-tls")
}

// entry is what the tests check of one webhook of either configuration.
type entry struct {
	name              string
	namespaceSelector *metav1.LabelSelector
	service           *admissionregistrationv1.ServiceReference
	caBundle          []byte
}

// webhookEntries returns the entries of both configurations, by kind.
func webhookEntries(t *testing.T, b *built) map[string][]entry {
	t.Helper()
	m := &admissionregistrationv1.MutatingWebhookConfiguration{}
	b.get(t, "MutatingWebhookConfiguration", "metrics-proxy", m)
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	b.get(t, "ValidatingWebhookConfiguration", "metrics-proxy", v)
	out := map[string][]entry{}
	for _, w := range m.Webhooks {
		out["mutating"] = append(out["mutating"], entry{w.Name, w.NamespaceSelector, w.ClientConfig.Service, w.ClientConfig.CABundle})
	}
	for _, w := range v.Webhooks {
		out["validating"] = append(out["validating"], entry{w.Name, w.NamespaceSelector, w.ClientConfig.Service, w.ClientConfig.CABundle})
	}
	require.Len(t, out["mutating"], 3)
	require.Len(t, out["validating"], 7)
	return out
}
