package deploy_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/certs"
)

// TestHelmInstallUpgradeUninstall runs `helm install`, `helm upgrade` and `helm uninstall`
// (Helm's SDK, as the helm CLI calls it) against a real API server, in self-signed mode (the
// defaults): the server's certificate source, run once as the chart's ServiceAccount, fills the
// Secret the chart created and both caBundles; an upgrade with a changed value keeps what it
// wrote (a lost caBundle would fail every admission after an upgrade); the webhook
// configurations are live (a DaemonSet in an enabled namespace is refused while no server
// answers). Then the README's removal, webhook configurations first: nothing of ours is left, not
// even the Secret the server wrote, and the same DaemonSet is created without error.
func TestHelmInstallUpgradeUninstall(t *testing.T) {
	cp := startControlPlane(t)
	cp.createReleaseNamespace(t)
	cfg := cp.helm(t)

	install := action.NewInstall(cfg)
	install.ReleaseName, install.Namespace, install.Timeout = releaseName, Namespace, time.Minute
	rel, err := install.Run(loadChart(t), nil)
	require.NoError(t, err, "helm install")
	assert.Equal(t, release.StatusDeployed, rel.Info.Status)

	// What a server does at start in self-signed mode, as the chart's ServiceAccount.
	saClient, err := client.New(asServiceAccount(cp.cfg), client.Options{Scheme: scheme()})
	require.NoError(t, err)
	source := &certs.SelfSigned{Client: saClient, Secret: types.NamespacedName{Namespace: Namespace, Name: certSecret},
		DNSNames: serviceDNSNames, WebhookConfiguration: "metrics-proxy", Dir: t.TempDir()}
	require.NoError(t, source.Reconcile(t.Context()), "the server fills the chart's Secret as its ServiceAccount")
	written := cp.secretData(t)
	require.NotEmpty(t, written[certs.BundleKey])
	require.NoError(t, caBundles(t, cp, written[certs.BundleKey]))

	ns := enabledNamespace(t, cp)
	err = cp.client.Create(t.Context(), plainDaemonSet(ns))
	require.Error(t, err, "the webhook configurations select the enabled namespace")
	assert.Contains(t, err.Error(), "failed calling webhook")

	upgrade := action.NewUpgrade(cfg)
	upgrade.Namespace, upgrade.ReuseValues, upgrade.Timeout = Namespace, true, time.Minute
	rel, err = upgrade.Run(releaseName, loadChart(t), map[string]any{"replicaCount": 3})
	require.NoError(t, err, "helm upgrade")
	assert.Equal(t, 2, rel.Version)
	d := &appsv1.Deployment{}
	require.NoError(t, cp.client.Get(t.Context(), client.ObjectKey{Namespace: Namespace, Name: deploymentName}, d))
	assert.Equal(t, int32(3), *d.Spec.Replicas, "the upgrade applied the changed value")
	assert.Equal(t, written, cp.secretData(t), "the upgrade keeps the CA and certificate the server wrote")
	assert.NoError(t, caBundles(t, cp, written[certs.BundleKey]), "the upgrade keeps the caBundle the server wrote")

	// The README's order: the webhook configurations first, then the release.
	_, stderr, err := cp.run(t, "", "delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration", "metrics-proxy")
	require.NoError(t, err, stderr)
	_, err = noHooksUninstall(cfg).Run(releaseName)
	require.NoError(t, err, "helm uninstall")

	cp.assertNothingLeft(t, parseManifests(t, rel.Manifest).objects)
	require.NoError(t, cp.client.Create(t.Context(), plainDaemonSet(ns)), "a DaemonSet in the formerly enabled namespace")
}

// noHooksUninstall is `helm uninstall --no-hooks`: this control plane runs no Job controller and
// no kubelet, so the chart's pre-delete hook Job could never complete (e2e/cluster's
// TestInstallRemoveOnRealNodes runs it on real nodes).
func noHooksUninstall(cfg *action.Configuration) *action.Uninstall {
	u := action.NewUninstall(cfg)
	u.DisableHooks = true
	return u
}

// TestHelmUninstallAlone: `helm uninstall --no-hooks` by itself (cert-manager mode here) also
// removes every object of the release, webhook configurations included; but Helm deletes kinds
// it does not know last, so without the chart's pre-delete hook the webhook configurations
// outlive the Service and the Deployment for the length of the uninstall (and for good if it
// stops half-way): why the chart has the hook (TestUninstallHook) and the README deletes them
// first when hooks are skipped.
func TestHelmUninstallAlone(t *testing.T) {
	cp := startControlPlane(t)
	cp.createReleaseNamespace(t)
	cfg := cp.helm(t)
	install := action.NewInstall(cfg)
	install.ReleaseName, install.Namespace, install.Timeout = releaseName, Namespace, time.Minute
	rel, err := install.Run(loadChart(t), map[string]any{"certificate": map[string]any{"mode": "cert-manager"}})
	require.NoError(t, err, "helm install")

	_, files, err := releaseutil.SortManifests(releaseutil.SplitManifests(rel.Manifest), nil, releaseutil.UninstallOrder)
	require.NoError(t, err)
	var order []string
	for _, f := range files {
		order = append(order, f.Head.Kind)
	}
	require.GreaterOrEqual(t, len(order), 2)
	assert.ElementsMatch(t, []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}, order[len(order)-2:],
		"helm uninstall deletes the webhook configurations last: %v", order)
	assert.Contains(t, order[:len(order)-2], "Service")

	ns := enabledNamespace(t, cp)
	_, err = noHooksUninstall(cfg).Run(releaseName)
	require.NoError(t, err, "helm uninstall")
	cp.assertNothingLeft(t, parseManifests(t, rel.Manifest).objects)
	require.NoError(t, cp.client.Create(t.Context(), plainDaemonSet(ns)), "a DaemonSet in the formerly enabled namespace")
}

// createReleaseNamespace creates the release namespace as the README has users do, Pod Security
// restricted: the chart does not own it.
func (cp *controlPlane) createReleaseNamespace(t *testing.T) {
	t.Helper()
	_, stderr, err := cp.run(t, "", "create", "namespace", Namespace)
	require.NoError(t, err, stderr)
	_, stderr, err = cp.run(t, "", "label", "namespace", Namespace, "pod-security.kubernetes.io/enforce=restricted")
	require.NoError(t, err, stderr)
}

// helm is Helm's action configuration for the control plane, releases stored as Secrets in the
// release namespace (the helm CLI's defaults).
func (cp *controlPlane) helm(t *testing.T) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	namespace, cache := Namespace, t.TempDir()
	flags.KubeConfig, flags.Namespace, flags.CacheDir = &cp.kubeconfig, &namespace, &cache
	cfg := &action.Configuration{}
	require.NoError(t, cfg.Init(flags, Namespace, "secret", t.Logf))
	return cfg
}

// secretData returns the data of the self-signed Secret.
func (cp *controlPlane) secretData(t *testing.T) map[string][]byte {
	t.Helper()
	s := &corev1.Secret{}
	require.NoError(t, cp.client.Get(t.Context(), client.ObjectKey{Namespace: Namespace, Name: certSecret}, s))
	return s.Data
}

// assertNothingLeft: every object installed is gone, and so is every object of ours the
// manifest does not list (a Secret the server created, Helm's release records), cluster-wide
// RBAC and webhook configurations included.
// A Namespace may still be terminating: envtest runs no namespace controller to finish it.
func (cp *controlPlane) assertNothingLeft(t *testing.T, objects []*unstructured.Unstructured) {
	t.Helper()
	require.NotEmpty(t, objects)
	poll(t, "the installed objects deleted", 30*time.Second, func() error {
		for _, o := range objects {
			o = o.DeepCopy()
			err := cp.client.Get(t.Context(), client.ObjectKeyFromObject(o), o)
			if err == nil && o.GetKind() == "Namespace" && o.GetDeletionTimestamp() != nil {
				continue
			}
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("%s %s/%s left: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
			}
		}
		return nil
	})
	ours := client.MatchingLabels{"app.kubernetes.io/name": "metrics-proxy"}
	for _, list := range []client.ObjectList{&admissionregistrationv1.MutatingWebhookConfigurationList{},
		&admissionregistrationv1.ValidatingWebhookConfigurationList{}} {
		require.NoError(t, cp.client.List(t.Context(), list))
		assert.Zero(t, meta.LenList(list), "%T", list)
	}
	for _, list := range []client.ObjectList{&rbacv1.ClusterRoleList{}, &rbacv1.ClusterRoleBindingList{},
		&rbacv1.RoleList{}, &rbacv1.RoleBindingList{}, &corev1.SecretList{}, &corev1.ConfigMapList{}, &corev1.ServiceList{},
		&corev1.ServiceAccountList{}, &appsv1.DeploymentList{}} {
		require.NoError(t, cp.client.List(t.Context(), list, ours))
		assert.Zero(t, meta.LenList(list), "%T of ours left", list)
	}
	secrets := &corev1.SecretList{}
	require.NoError(t, cp.client.List(t.Context(), secrets, client.InNamespace(Namespace)))
	for _, s := range secrets.Items {
		assert.False(t, strings.HasPrefix(s.Name, "sh.helm.release"), "release record %s left", s.Name)
		assert.NotEqual(t, certSecret, s.Name)
	}
}

// plainDaemonSet is an ordinary, complete DaemonSet, valid without any webhook.
func plainDaemonSet(namespace string) *appsv1.DaemonSet {
	labels := map[string]string{"app": "node-agent"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "node-agent", Namespace: namespace},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "registry.example/agent:1"}}},
			},
		},
	}
}

// TestChartServerSideDryRun applies renders the parity test does not cover (every option on, in
// another namespace; files mode with a caBundle) to a real API server with `kubectl apply
// --server-side --dry-run=server`: strict field validation, defaulting and admission (Pod
// Security restricted included) accept every object, without a warning.
func TestChartServerSideDryRun(t *testing.T) {
	cp := startControlPlane(t)
	for _, tc := range []struct{ namespace, values string }{
		{"ops", `
replicaCount: 1
excludedNamespaces: [kube-system, kube-public, kube-node-lease]
networkPolicy: {enabled: true}
scraperRBAC: {enabled: true}
extraArgs: [--log-format=text]
podAnnotations: {example.com/team: observability}
tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]
policy: {enforcement: Warn, allowedMethods: [GET], exemptNamespaces: [sandbox]}`},
		{Namespace, "certificate: {mode: files, caBundle: Q0EK}"},
	} {
		t.Run(tc.namespace, func(t *testing.T) {
			for _, args := range [][]string{{"create", "namespace", tc.namespace},
				{"label", "namespace", tc.namespace, "pod-security.kubernetes.io/enforce=restricted"},
				{"-n", tc.namespace, "create", "serviceaccount", serviceAccount}} {
				_, stderr, err := cp.run(t, "", args...)
				require.NoError(t, err, stderr)
			}
			b := mustRender(t, tc.namespace, tc.values)
			stdout, stderr, err := cp.run(t, string(b.yaml), "apply", "--server-side", "--dry-run=server", "-f", "-")
			require.NoError(t, err, stderr)
			assert.Empty(t, strings.TrimSpace(stderr), "no warnings")
			assert.Len(t, strings.Split(strings.TrimSpace(stdout), "\n"), len(b.objects), stdout)
			cp.assertPodAdmitted(t, b)
		})
	}
}
