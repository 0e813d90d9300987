package deploy_test

import (
	"path"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// serviceName is the Service the webhook configurations call.
const serviceName = "metrics-proxy-webhook"

// TestNamespace: every namespaced object is in the webhook's namespace, which enforces the
// restricted Pod Security level.
func TestNamespace(t *testing.T) {
	forEachVariant(t, func(t *testing.T, _ variant, b *built) {
		ns := &corev1.Namespace{}
		b.get(t, "Namespace", Namespace, ns)
		assert.Equal(t, "restricted", ns.Labels["pod-security.kubernetes.io/enforce"])
		for _, o := range b.objects {
			switch o.GetKind() {
			case "Namespace", "ClusterRole", "ClusterRoleBinding",
				"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration":
				assert.Empty(t, o.GetNamespace(), "%s %s", o.GetKind(), o.GetName())
			default:
				assert.Equal(t, Namespace, o.GetNamespace(), "%s %s", o.GetKind(), o.GetName())
			}
		}
	})
}

// TestServiceAndBudget: the Service sends 443 to the server's --port and exposes its
// --metrics-bind-address; it and the PodDisruptionBudget select the Deployment's pods.
func TestServiceAndBudget(t *testing.T) {
	forEachVariant(t, func(t *testing.T, _ variant, b *built) {
		d, c := deployment(t, b)
		svc := &corev1.Service{}
		b.get(t, "Service", serviceName, svc)
		assert.Equal(t, d.Spec.Selector.MatchLabels, svc.Spec.Selector)
		ports := map[int32]intstr.IntOrString{}
		for _, p := range svc.Spec.Ports {
			ports[p.Port] = p.TargetPort
		}
		require.Contains(t, ports, int32(443))
		webhook := containerPort(t, c, ports[443].StrVal)
		assert.Equal(t, webhook.String(), flag(t, c.Args, "port"))
		metrics := containerPort(t, c, "metrics")
		assert.Equal(t, ":"+metrics.String(), flag(t, c.Args, "metrics-bind-address"))
		assert.Contains(t, ports, metrics.IntVal, "the metrics port is on the Service")

		pdb := &policyv1.PodDisruptionBudget{}
		b.get(t, "PodDisruptionBudget", deploymentName, pdb)
		require.NotNil(t, pdb.Spec.Selector)
		assert.Equal(t, d.Spec.Selector.MatchLabels, pdb.Spec.Selector.MatchLabels)
		require.NotNil(t, pdb.Spec.MinAvailable)
		assert.Less(t, pdb.Spec.MinAvailable.IntValue(), int(*d.Spec.Replicas), "a drain can evict one replica")
		assert.Positive(t, pdb.Spec.MinAvailable.IntValue())
	})
}

// TestPolicyConfigMap: the policy ConfigMap holds the default policy, is mounted read-only, and
// the server's --policy points at it.
func TestPolicyConfigMap(t *testing.T) {
	forEachVariant(t, func(t *testing.T, _ variant, b *built) {
		d, c := deployment(t, b)
		file := flag(t, c.Args, "policy")
		vol, mount := mountAt(t, &d.Spec.Template.Spec, c, path.Dir(file))
		assert.True(t, mount.ReadOnly)
		require.NotNil(t, vol.ConfigMap)
		cm := &corev1.ConfigMap{}
		b.get(t, "ConfigMap", vol.ConfigMap.Name, cm)
		require.Contains(t, cm.Data, path.Base(file))
		p, err := policy.Parse([]byte(cm.Data[path.Base(file)]))
		require.NoError(t, err)
		want := policy.Default()
		assert.Equal(t, want.Enforcement, p.Enforcement)
		assert.Equal(t, want.AllowedPaths, p.AllowedPaths)
		assert.Equal(t, want.Components, p.Components)
		assert.Equal(t, want.AllowedImages, p.AllowedImages)
		assert.Empty(t, p.AllowedMethods)
		assert.Empty(t, p.ExemptNamespaces)
		assert.Empty(t, p.AllowedContainers)
	})
}

// webhookConfigurationName is both webhook configurations' name, the server's
// --webhook-configuration.
const webhookConfigurationName = "metrics-proxy"

// TestWebhookConfigurations: both configurations call the Service on 443 at paths the server
// registers; only the cert-manager overlay asks cert-manager for the caBundle.
func TestWebhookConfigurations(t *testing.T) {
	paths := []string{admission.MutateDaemonSetPath, admission.MutateConfigMapPath,
		admission.ValidateDaemonSetPath, admission.ValidateConfigMapPath, admission.ValidatePodPath}
	forEachVariant(t, func(t *testing.T, v variant, b *built) {
		_, c := deployment(t, b)
		assert.Equal(t, webhookConfigurationName, flag(t, c.Args, "webhook-configuration"))
		assert.Equal(t, serviceName, flag(t, c.Args, "service"))
		mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
		b.get(t, "MutatingWebhookConfiguration", webhookConfigurationName, mutating)
		validating := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		b.get(t, "ValidatingWebhookConfiguration", webhookConfigurationName, validating)
		var clients []admissionregistrationv1.WebhookClientConfig
		for _, w := range mutating.Webhooks {
			clients = append(clients, w.ClientConfig)
		}
		for _, w := range validating.Webhooks {
			clients = append(clients, w.ClientConfig)
		}
		require.NotEmpty(t, clients)
		for _, cc := range clients {
			require.NotNil(t, cc.Service)
			assert.Equal(t, serviceName, cc.Service.Name)
			assert.Equal(t, Namespace, cc.Service.Namespace)
			assert.Equal(t, int32(443), *cc.Service.Port)
			assert.Contains(t, paths, *cc.Service.Path)
			assert.Empty(t, cc.CABundle, "the caBundle is the mode's business, not the manifests'")
		}
		for _, annotations := range []map[string]string{mutating.Annotations, validating.Annotations} {
			if v.mode == "cert-manager" {
				assert.Equal(t, Namespace+"/"+servingCertificate, annotations[injectCAFrom])
			} else {
				assert.NotContains(t, annotations, injectCAFrom)
			}
		}
	})
}
