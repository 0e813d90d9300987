//go:build linux

package cluster

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/webhook/names"
)

// lifecycleNamespace is the enabled namespace of TestInstallRemoveOnRealNodes.
const lifecycleNamespace = "lifecycle"

// TestInstallRemoveOnRealNodes installs, upgrades and removes metrics-proxy on real nodes the
// ways users do, the image being the one the nodes loaded:
//   - kustomize: `kubectl apply -k deploy/overlays/self-signed`, then the README's removal
//     (webhook configurations first, then `kubectl delete -k`);
//   - Helm (the SDK the helm CLI calls): `helm install`, then `helm upgrade` with a value that
//     changes the pod template (the replicas roll) while a proxy DaemonSet is created in an
//     enabled namespace every 200 ms until the old pods are gone: every admission is counted and
//     none may fail; then `helm uninstall` alone, whose pre-delete hook (a Job of the image the
//     nodes loaded) deletes the webhook configurations before Helm deletes the Service and the
//     Deployment (the order of the deletions is watched).
//
// After each removal nothing of ours is left (webhook configurations, Secrets, ClusterRoles,
// bindings, the release records) and a DaemonSet in the formerly enabled namespace is created
// without error.
func TestInstallRemoveOnRealNodes(t *testing.T) {
	ctx := testContext(t)
	c := up(ctx, t)
	installed(ctx, t, c)
	for _, args := range [][]string{
		{"create", "namespace", lifecycleNamespace},
		{"label", "namespace", lifecycleNamespace, names.NamespaceInjectionLabel + "=enabled"},
	} {
		_, _, err := c.Kubectl(ctx, "", args...)
		require.NoError(t, err)
	}
	t.Cleanup(func() {
		_, _, _ = c.Kubectl(context.Background(), "", "delete", "namespace", lifecycleNamespace, "--wait=false")
	})
	_, _, err := c.Kubectl(ctx, proxyConfigYAML(lifecycleNamespace), "apply", "-f", "-")
	require.NoError(t, err)
	assertInjects(ctx, t, c, "kustomize-installed")

	start := time.Now()
	for _, args := range [][]string{
		{"delete", "mutatingwebhookconfiguration,validatingwebhookconfiguration", WebhookConfiguration},
		{"delete", "-k", filepath.Join(harness.RepoRoot(), "deploy", "overlays", "self-signed"), "--ignore-not-found"},
	} {
		_, _, err := c.Kubectl(ctx, "", args...)
		require.NoError(t, err)
	}
	t.Logf("kubectl delete -k, webhook configurations first: %s", time.Since(start).Round(100*time.Millisecond))
	assertNothingOfOursLeft(ctx, t, c, "after kubectl delete -k")
	assertPlainDaemonSetCreated(ctx, t, c, "after-kustomize")

	// The README's Helm install: the release namespace is the user's, Pod Security restricted.
	for _, args := range [][]string{
		{"create", "namespace", WebhookNamespace},
		{"label", "namespace", WebhookNamespace, "pod-security.kubernetes.io/enforce=restricted"},
	} {
		_, _, err := c.Kubectl(ctx, "", args...)
		require.NoError(t, err)
	}
	cfg := helmConfig(t, c)
	chart, err := loader.Load(filepath.Join(harness.RepoRoot(), "deploy", "helm", "metrics-proxy"))
	require.NoError(t, err)
	install := action.NewInstall(cfg)
	install.ReleaseName, install.Namespace, install.Wait, install.Timeout = WebhookConfiguration, WebhookNamespace, true, 3*time.Minute
	start = time.Now()
	// The image the nodes loaded (WebhookImage), as a user who re-tags sets the chart's image.
	_, err = install.Run(chart, map[string]any{"image": map[string]any{"repository": webhookName, "tag": webhookTag}})
	require.NoError(t, err, "helm install")
	require.NoError(t, c.waitWebhookReady(ctx), "the servers fill the caBundle")
	t.Logf("helm install (waited for the replicas and the caBundle): %s", time.Since(start).Round(100*time.Millisecond))
	assertInjects(ctx, t, c, "helm-installed")

	before := webhookPodUIDs(ctx, t, c)
	slices := watchEndpoints(ctx, t, c)
	rules := watchProxyRules(ctx, c.Nodes[0])
	burst := createDaemonSets(ctx, c, 200*time.Millisecond)
	upgrade := action.NewUpgrade(cfg)
	upgrade.Namespace, upgrade.ReuseValues, upgrade.Wait, upgrade.Timeout = WebhookNamespace, true, true, 3*time.Minute
	start = time.Now()
	t.Logf("helm upgrade starts at %s", start.Format("15:04:05.000"))
	_, err = upgrade.Run(WebhookConfiguration, chart, map[string]any{"extraArgs": []any{"--v=1"}})
	took := time.Since(start)
	// The old pods stop after their preStop delay: admissions count until they are gone, and a
	// little after.
	oldGone := poll(ctx, 2*time.Minute, nil, func(ctx context.Context) error {
		pods, err := c.Client.CoreV1().Pods(WebhookNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=webhook"})
		if err != nil {
			return err
		}
		for _, p := range pods.Items {
			if before[string(p.UID)] {
				return fmt.Errorf("the old pod %s is still there", p.Name)
			}
		}
		return nil
	})
	gone := time.Since(start)
	time.Sleep(3 * time.Second)
	created, failed := burst.stop()
	require.NoError(t, oldGone)
	endpoints := slices.stop()
	dnat := rules.stop()
	require.NoError(t, err, "helm upgrade")
	after := webhookPodUIDs(ctx, t, c)
	t.Logf("helm upgrade (extraArgs changed: both replicas replaced) in %s, the old pods gone after %s; %d DaemonSets created meanwhile (until 3 s later), %d admission(s) failed: %v",
		took.Round(100*time.Millisecond), gone.Round(100*time.Millisecond), created, len(failed), failed)
	for uid := range before {
		assert.NotContains(t, after, uid, "the upgrade replaced every webhook pod")
	}
	assert.GreaterOrEqual(t, created, 10, "DaemonSets were created throughout the upgrade")
	if !assert.Empty(t, failed, "no admission fails during helm upgrade") {
		t.Logf("the webhook Service's endpoints meanwhile:\n%s", endpoints)
		t.Logf("the pod addresses kube-proxy's rules on %s send the webhook Service to:\n%s", c.Nodes[0].Name, dnat)
		logs, _, _ := c.Kubectl(ctx, "", "logs", "-n", "kube-system", "-l", "k8s-app=kube-proxy", "--prefix", "--tail=60")
		t.Logf("kube-proxy's logs:\n%s", logs)
	}
	assertBurstInjected(ctx, t, c, created)

	// helm uninstall alone: the chart's pre-delete hook removes the webhook configurations
	// before Helm deletes the server.
	deletions := watchDeletions(ctx, t, c)
	start = time.Now()
	uninstall := action.NewUninstall(cfg)
	uninstall.Wait, uninstall.Timeout = true, 2*time.Minute
	_, err = uninstall.Run(WebhookConfiguration)
	require.NoError(t, err, "helm uninstall")
	t.Logf("helm uninstall (its pre-delete hook Job first): %s", time.Since(start).Round(100*time.Millisecond))
	order := deletions.stop()
	t.Logf("deleted, in order: %s", strings.Join(order, ", "))
	require.Len(t, order, 4, "the webhook configurations, the Service and the Deployment deleted")
	assert.ElementsMatch(t, []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}, order[:2],
		"the webhook configurations go before the server")
	assertNothingOfOursLeft(ctx, t, c, "after helm uninstall")
	assertPlainDaemonSetCreated(ctx, t, c, "after-helm")

	// The release namespace is the user's to delete; the next test installs with kustomize again.
	_, _, err = c.Kubectl(ctx, "", "delete", "namespace", WebhookNamespace)
	require.NoError(t, err)
}

// proxyConfigYAML is a proxy ConfigMap stub in ns, filled by the webhook, that the stubs mount.
func proxyConfigYAML(ns string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: %s
  labels: {%s: %s}
  annotations: {%s: %s}
`, names.ControlPlaneDaemonSet, ns, names.ConfigLabel, names.ConfigLabelValue, names.TLSAnnotation, names.TLSNone)
}

// unscheduledStub is a proxy stub that no node runs (a node selector nothing matches): the
// admissions under test, without a pod per DaemonSet on the nodes.
func unscheduledStub(name string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: lifecycleNamespace, Annotations: map[string]string{
			names.ConfigMapAnnotation: names.ControlPlaneDaemonSet, names.TLSAnnotation: names.TLSNone}},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			NodeSelector: map[string]string{"metrics-proxy.io/e2e-no-node": "true"},
			Containers:   []corev1.Container{}}}},
	}
}

// assertInjects creates a proxy stub in the enabled namespace and expects it injected.
func assertInjects(ctx context.Context, t *testing.T, c *Cluster, name string) {
	t.Helper()
	ds, err := c.Client.AppsV1().DaemonSets(lifecycleNamespace).Create(ctx, unscheduledStub(name), metav1.CreateOptions{})
	require.NoError(t, err)
	assert.NotEmpty(t, ds.Annotations[names.StatusAnnotation], "the webhook injected %s", name)
}

// assertPlainDaemonSetCreated creates an ordinary DaemonSet (its own container, no toleration)
// in the formerly enabled namespace: no webhook configuration of ours refuses it.
func assertPlainDaemonSetCreated(ctx context.Context, t *testing.T, c *Cluster, name string) {
	t.Helper()
	_, stderr, err := c.Kubectl(ctx, plainYAML(name, lifecycleNamespace), "apply", "-f", "-")
	require.NoError(t, err, "a DaemonSet in the formerly enabled namespace: %s", stderr)
	ds, err := c.Client.AppsV1().DaemonSets(lifecycleNamespace).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Empty(t, ds.Annotations[names.StatusAnnotation], "not injected")
	assert.Len(t, ds.Spec.Template.Spec.Containers, 1, "only its own container")
}

// assertNothingOfOursLeft: no webhook configuration at all, and nothing labelled as ours or named
// like ours (ClusterRoles and bindings, Secrets, the Helm release records) anywhere.
func assertNothingOfOursLeft(ctx context.Context, t *testing.T, c *Cluster, when string) {
	t.Helper()
	err := poll(ctx, 2*time.Minute, nil, func(ctx context.Context) error {
		var left []string
		m, err := c.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, o := range m.Items {
			left = append(left, "MutatingWebhookConfiguration "+o.Name)
		}
		v, err := c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, o := range v.Items {
			left = append(left, "ValidatingWebhookConfiguration "+o.Name)
		}
		roles, err := c.Client.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, o := range roles.Items {
			if strings.Contains(o.Name, "metrics-proxy") || o.Labels["app.kubernetes.io/name"] == "metrics-proxy" {
				left = append(left, "ClusterRole "+o.Name)
			}
		}
		bindings, err := c.Client.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, o := range bindings.Items {
			if strings.Contains(o.Name, "metrics-proxy") || o.Labels["app.kubernetes.io/name"] == "metrics-proxy" {
				left = append(left, "ClusterRoleBinding "+o.Name)
			}
		}
		secrets, err := c.Client.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, o := range secrets.Items {
			if strings.Contains(o.Name, "metrics-proxy") || o.Namespace == WebhookNamespace || o.Labels["app.kubernetes.io/name"] == "metrics-proxy" {
				left = append(left, "Secret "+o.Namespace+"/"+o.Name)
			}
		}
		for _, kind := range []string{"roles", "rolebindings", "deployments", "services", "serviceaccounts", "configmaps", "leases", "jobs"} {
			out, _, err := c.Kubectl(ctx, "", "get", kind, "-A", "-l", "app.kubernetes.io/name=metrics-proxy", "-o", "name")
			if err != nil {
				return err
			}
			if s := strings.TrimSpace(out); s != "" {
				left = append(left, strings.Fields(s)...)
			}
		}
		if len(left) > 0 {
			return fmt.Errorf("%s: left: %s", when, strings.Join(left, ", "))
		}
		return nil
	})
	require.NoError(t, err)
}

// helmConfig is Helm's action configuration for the cluster, releases stored as Secrets in the
// release namespace (the helm CLI's defaults).
func helmConfig(t *testing.T, c *Cluster) *action.Configuration {
	t.Helper()
	flags := genericclioptions.NewConfigFlags(false)
	namespace, cache := WebhookNamespace, t.TempDir()
	flags.KubeConfig, flags.Namespace, flags.CacheDir = &c.Kubeconfig, &namespace, &cache
	cfg := &action.Configuration{}
	require.NoError(t, cfg.Init(flags, WebhookNamespace, "secret", t.Logf))
	return cfg
}

// webhookPodUIDs returns the UIDs of the webhook's pods.
func webhookPodUIDs(ctx context.Context, t *testing.T, c *Cluster) map[string]bool {
	t.Helper()
	pods, err := c.Client.CoreV1().Pods(WebhookNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=webhook"})
	require.NoError(t, err)
	uids := map[string]bool{}
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil { // terminating pods (the preStop delay) are on their way out
			uids[string(p.UID)] = true
		}
	}
	return uids
}

// assertBurstInjected checks that every DaemonSet of the burst was injected.
func assertBurstInjected(ctx context.Context, t *testing.T, c *Cluster, created int) {
	t.Helper()
	list, err := c.Client.AppsV1().DaemonSets(lifecycleNamespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	injected := 0
	for _, ds := range list.Items {
		if strings.HasPrefix(ds.Name, "burst-") && ds.Annotations[names.StatusAnnotation] != "" {
			injected++
		}
	}
	assert.Equal(t, created, injected, "every DaemonSet created during the upgrade was injected")
}

// waitWebhookReady waits until the Deployment's replicas are available and every webhook of the
// mutating configuration has a caBundle.
func (c *Cluster) waitWebhookReady(ctx context.Context) error {
	return poll(ctx, 3*time.Minute, nil, func(ctx context.Context) error {
		d, err := c.Client.AppsV1().Deployments(WebhookNamespace).Get(ctx, WebhookDeployment, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !available(d) {
			return fmt.Errorf("deployment %s: %d of %d replicas ready", WebhookDeployment, d.Status.ReadyReplicas, *d.Spec.Replicas)
		}
		for _, get := range []func() ([]string, error){
			func() ([]string, error) {
				m, err := c.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, WebhookConfiguration, metav1.GetOptions{})
				if err != nil {
					return nil, err
				}
				var missing []string
				for _, w := range m.Webhooks {
					if len(w.ClientConfig.CABundle) == 0 {
						missing = append(missing, w.Name)
					}
				}
				return missing, nil
			},
			func() ([]string, error) {
				v, err := c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, WebhookConfiguration, metav1.GetOptions{})
				if err != nil {
					return nil, err
				}
				var missing []string
				for _, w := range v.Webhooks {
					if len(w.ClientConfig.CABundle) == 0 {
						missing = append(missing, w.Name)
					}
				}
				return missing, nil
			},
		} {
			missing, err := get()
			if err != nil {
				return err
			}
			if len(missing) > 0 {
				return fmt.Errorf("no caBundle yet: %v", missing)
			}
		}
		return nil
	})
}
