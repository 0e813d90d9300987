package deploy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/certs"
)

// TestKustomizeApplyDelete is TestHelmInstallUpgradeUninstall for `kubectl apply -k` and
// `kubectl delete -k` (bin/kubectl, the self-signed overlay): the server fills the overlay's
// Secret and both caBundles, a re-apply keeps them, the configurations are live; removed in the
// README's order (webhook configurations first, then `kubectl delete -k --ignore-not-found`),
// nothing of ours is left, the Secret the server wrote included, and a DaemonSet in the formerly
// enabled namespace is created without error.
func TestKustomizeApplyDelete(t *testing.T) {
	const dir = "overlays/self-signed"
	cp := startControlPlane(t)
	_, stderr, err := cp.run(t, "", "apply", "-k", dir)
	require.NoError(t, err, stderr)

	saClient, err := client.New(asServiceAccount(cp.cfg), client.Options{Scheme: scheme()})
	require.NoError(t, err)
	source := &certs.SelfSigned{Client: saClient, Secret: types.NamespacedName{Namespace: Namespace, Name: certSecret},
		DNSNames: serviceDNSNames, WebhookConfiguration: "metrics-proxy", Dir: t.TempDir()}
	require.NoError(t, source.Reconcile(t.Context()), "the server fills the overlay's Secret as its ServiceAccount")
	written := cp.secretData(t)
	require.NotEmpty(t, written[certs.BundleKey])

	ns := enabledNamespace(t, cp)
	err = cp.client.Create(t.Context(), plainDaemonSet(ns))
	require.Error(t, err, "the webhook configurations select the enabled namespace")
	assert.Contains(t, err.Error(), "failed calling webhook")

	_, stderr, err = cp.run(t, "", "apply", "-k", dir)
	require.NoError(t, err, stderr)
	assert.Equal(t, written, cp.secretData(t), "a re-apply keeps the CA and certificate the server wrote")
	assert.NoError(t, caBundles(t, cp, written[certs.BundleKey]), "a re-apply keeps the caBundle the server wrote")

	// Why the README deletes them first: kubectl deletes in the order of its kustomize build,
	// which puts the webhook configurations last.
	stdout, stderr, err := cp.run(t, "", "kustomize", dir)
	require.NoError(t, err, stderr)
	objects := parseManifests(t, stdout).objects
	require.GreaterOrEqual(t, len(objects), 2)
	var last []string
	for _, o := range objects[len(objects)-2:] {
		last = append(last, o.GetKind())
	}
	assert.ElementsMatch(t, []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}, last)

	_, stderr, err = cp.run(t, "", "delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration", "metrics-proxy")
	require.NoError(t, err, stderr)
	// --wait=false: envtest runs no namespace controller to finish the Namespace's deletion.
	_, stderr, err = cp.run(t, "", "delete", "-k", dir, "--ignore-not-found", "--wait=false")
	require.NoError(t, err, stderr)

	cp.assertNothingLeft(t, objects)
	require.NoError(t, cp.client.Create(t.Context(), plainDaemonSet(ns)), "a DaemonSet in the formerly enabled namespace")
}
