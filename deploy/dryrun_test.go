package deploy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// TestServerSideDryRun applies the base, both overlays and the scraper example to a real API
// server with `kubectl apply --server-side --dry-run=server`: every object passes the server's
// schema (strict field validation, cert-manager's CRDs included), defaulting and admission,
// Pod Security included, without a warning.
func TestServerSideDryRun(t *testing.T) {
	cp := startControlPlane(t)
	dirs := []string{scraperExample}
	for _, v := range variants {
		dirs = append(dirs, v.dir)
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			b := kustomize(t, dir)
			cp.applyPrerequisites(t, b)
			stdout, stderr, err := cp.run(t, string(b.yaml), "apply", "--server-side", "--dry-run=server", "-f", "-")
			require.NoError(t, err, stderr)
			assert.Empty(t, strings.TrimSpace(stderr), "no warnings")
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			assert.Len(t, lines, len(b.objects), stdout)
			for _, l := range lines {
				assert.Contains(t, l, "(server dry run)")
			}
			cp.assertPodAdmitted(t, b)
		})
	}
}

// applyPrerequisites applies the Namespace and the ServiceAccount for real: a dry-run Namespace
// does not exist for the dry-run of the objects in it, nor a dry-run ServiceAccount for a Pod.
func (cp *controlPlane) applyPrerequisites(t *testing.T, b *built) {
	t.Helper()
	var docs []string
	for _, o := range b.objects {
		if o.GetKind() == "Namespace" || o.GetKind() == "ServiceAccount" {
			data, err := yaml.Marshal(o.Object)
			require.NoError(t, err)
			docs = append(docs, string(data))
		}
	}
	_, stderr, err := cp.run(t, strings.Join(docs, "---\n"), "apply", "--server-side", "-f", "-")
	require.NoError(t, err, stderr)
}

// assertPodAdmitted creates a Pod of the Deployment's template in dry-run: the namespace's Pod
// Security level (enforce restricted) admits it, and rejects the same Pod on the host network,
// which shows the check is live.
func (cp *controlPlane) assertPodAdmitted(t *testing.T, b *built) {
	t.Helper()
	d, _ := deployment(t, b)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: d.Name + "-", Namespace: d.Namespace, Labels: d.Spec.Template.Labels},
		Spec:       d.Spec.Template.Spec,
	}
	require.NoError(t, cp.client.Create(t.Context(), pod.DeepCopy(), client.DryRunAll), "Pod Security admits the pod")

	pod.Spec.HostNetwork = true
	err := cp.client.Create(t.Context(), pod, client.DryRunAll)
	require.Error(t, err, "a pod on the host network is rejected")
	assert.Contains(t, err.Error(), "violates PodSecurity")
}
