package deploy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// TestUninstallHook: the chart's pre-delete hook deletes the two webhook configurations named
// metrics-proxy and can do nothing else: a Job of the chart's image running `remove-webhooks`,
// as a ServiceAccount whose only grant is delete on those two objects by name, every hook object
// created before the Job (weights) and deleted once it succeeded; uninstallHook.enabled=false
// renders no hook. (On real nodes: e2e/cluster's TestInstallRemoveOnRealNodes.)
func TestUninstallHook(t *testing.T) {
	hooks := renderHooks(t, "")
	byKind := map[string]string{}
	for _, h := range hooks {
		byKind[h.Kind] = h.Manifest
		assert.Equal(t, "pre-delete", h.Annotations["helm.sh/hook"], h.Kind)
		assert.Equal(t, "before-hook-creation,hook-succeeded", h.Annotations["helm.sh/hook-delete-policy"], h.Kind)
		want := "-10"
		if h.Kind == "Job" {
			want = "0"
		}
		assert.Equal(t, want, h.Annotations["helm.sh/hook-weight"], "%s: RBAC first, then the Job", h.Kind)
	}
	require.ElementsMatch(t, []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Job"}, keys(byKind))

	var role rbacv1.ClusterRole
	require.NoError(t, yaml.UnmarshalStrict([]byte(byKind["ClusterRole"]), &role))
	assert.Equal(t, []rbacv1.PolicyRule{{APIGroups: []string{"admissionregistration.k8s.io"},
		Resources:     []string{"mutatingwebhookconfigurations", "validatingwebhookconfigurations"},
		ResourceNames: []string{"metrics-proxy"}, Verbs: []string{"delete"}}}, role.Rules, "delete on our two objects, nothing else")
	var binding rbacv1.ClusterRoleBinding
	require.NoError(t, yaml.UnmarshalStrict([]byte(byKind["ClusterRoleBinding"]), &binding))
	assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: "metrics-proxy-uninstall", Namespace: Namespace}}, binding.Subjects)

	var job batchv1.Job
	require.NoError(t, yaml.UnmarshalStrict([]byte(byKind["Job"]), &job))
	pod := job.Spec.Template.Spec
	assert.Equal(t, "metrics-proxy-uninstall", pod.ServiceAccountName)
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.Equal(t, "metrics-proxy:latest", c.Image, "the chart's image")
	assert.Equal(t, []string{"remove-webhooks", "--webhook-configuration=metrics-proxy"}, c.Args)
	assert.Equal(t, corev1.RestartPolicyNever, pod.RestartPolicy)
	assert.NotNil(t, job.Spec.ActiveDeadlineSeconds, "bounded in time")
	assert.Equal(t, ptr.To(false), c.SecurityContext.AllowPrivilegeEscalation)
	assert.Equal(t, ptr.To(true), c.SecurityContext.ReadOnlyRootFilesystem)
	assert.Equal(t, []corev1.Capability{"ALL"}, c.SecurityContext.Capabilities.Drop)
	assert.Equal(t, ptr.To(true), pod.SecurityContext.RunAsNonRoot)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type)
	assert.NotEqual(t, "webhook", job.Spec.Template.Labels["app.kubernetes.io/component"], "not selected by the webhook's Service, PDB or NetworkPolicy")

	assert.Empty(t, renderHooks(t, "uninstallHook: {enabled: false}"))
	// helm upgrade --reuse-values from a release that predates the value: the hook stays on.
	assert.Len(t, renderHooks(t, "uninstallHook: null"), 4)
}

// hook is a rendered Helm hook.
type hook struct {
	Kind, Manifest string
	Annotations    map[string]string
}

// renderHooks renders the chart (helm template) and returns its hooks.
func renderHooks(t *testing.T, values string) []hook {
	t.Helper()
	inst := action.NewInstall(&action.Configuration{Log: t.Logf})
	inst.ClientOnly, inst.DryRun, inst.Replace = true, true, true
	inst.ReleaseName, inst.Namespace = releaseName, Namespace
	kv, err := chartutil.ParseKubeVersion(minKubeVersion)
	require.NoError(t, err)
	inst.KubeVersion = kv
	rel, err := inst.Run(loadChart(t), parseValues(t, values))
	require.NoError(t, err)
	var out []hook
	for _, h := range rel.Hooks {
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		require.NoError(t, yaml.Unmarshal([]byte(h.Manifest), &meta))
		out = append(out, hook{Kind: meta.Kind, Manifest: h.Manifest, Annotations: meta.Metadata.Annotations})
	}
	return out
}
