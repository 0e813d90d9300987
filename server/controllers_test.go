package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/controller"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestControllersRunWithDeployRBAC: the server, running as deploy/base's ServiceAccount with
// exactly deploy/base's RBAC (no webhook is registered in this package's API server), wins the
// Lease in its namespace, rolls a proxy whose ConfigMap changed (DaemonSet patch), audits a
// DaemonSet its namespace selects but nobody injected (ConfigMap list and watch, status patch,
// an Event) and, with --reinject=stale, re-applies it (allowed; with no webhook registered it
// stays uninjected, which the ReinjectFailed Event says): the grants are enough for every call
// the controllers make.
func TestControllersRunWithDeployRBAC(t *testing.T) {
	if cfg == nil {
		testtool.Missing(t, noControlPlane.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := client.New(cfg, client.Options{})
	require.NoError(t, err)
	base := filepath.Join(harness.RepoRoot(), "deploy", "base")
	for _, file := range []string{"namespace.yaml", "serviceaccount.yaml", "rbac.yaml", "rbac-controllers.yaml"} {
		applyFile(t, ctx, admin, filepath.Join(base, file))
	}

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "rbac-", Labels: map[string]string{names.NamespaceInjectionLabel: "enabled"}}}
	require.NoError(t, admin.Create(ctx, ns))
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: names.DefaultConfigMap,
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}},
		Data: map[string]string{names.ConfigKey: inject.HAProxyConfig(components.All())}}
	require.NoError(t, admin.Create(ctx, cm))
	proxy := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "proxy"},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{}}}}}
	require.NoError(t, inject.DaemonSet(proxy, inject.Config{Version: "rbac-test", ConfigHash: inject.ConfigHash(cm)}))
	require.NoError(t, admin.Create(ctx, proxy))
	early := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "early"},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "early"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "early"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}}}}
	require.NoError(t, admin.Create(ctx, early))

	sa := *cfg
	sa.Impersonate.UserName = "system:serviceaccount:metrics-proxy-system:metrics-proxy"
	sa.Impersonate.Groups = []string{"system:serviceaccounts", "system:serviceaccounts:metrics-proxy-system", "system:authenticated"}
	dir := t.TempDir()
	cert, key, err := certutil.GenerateSelfSignedCertKey("localhost", nil, nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, certs.CertFile), cert, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, certs.KeyFile), key, 0o600))
	ports, err := harness.FreePorts("127.0.0.1", 1)
	require.NoError(t, err)
	mgr, err := server.New(&sa, server.Options{Inject: inject.Config{Version: "rbac-test"}, Host: "127.0.0.1", Port: ports[0],
		Certs: &certs.Files{Dir: dir}, MetricsBindAddress: "0", Logger: logr.Discard(),
		LeaderElection: true, LeaderElectionID: "metrics-proxy", LeaderElectionNamespace: "metrics-proxy-system",
		Controllers: &controller.Options{AuditInterval: time.Hour, Reinject: controller.ReinjectStale}})
	require.NoError(t, err)
	mctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	defer func() { stop(); require.NoError(t, <-done) }()

	select {
	case <-mgr.Elected():
	case <-time.After(30 * time.Second):
		t.Fatal("not elected: the Lease grants do not suffice")
	}
	var lease coordinationv1.Lease
	require.NoError(t, admin.Get(ctx, client.ObjectKey{Namespace: "metrics-proxy-system", Name: "metrics-proxy"}, &lease))

	require.Eventually(t, func() bool {
		var got appsv1.DaemonSet
		return admin.Get(ctx, client.ObjectKeyFromObject(early), &got) == nil &&
			strings.Contains(got.Annotations[names.AuditAnnotation], string(controller.ReasonNotInjected))
	}, 30*time.Second, 100*time.Millisecond, "the audit did not annotate the never-injected DaemonSet")

	cm.Data[names.ConfigKey] = inject.HAProxyConfig(components.All()[:2])
	require.NoError(t, admin.Update(ctx, cm))
	require.Eventually(t, func() bool {
		var got appsv1.DaemonSet
		return admin.Get(ctx, client.ObjectKeyFromObject(proxy), &got) == nil && inject.TemplateConfigHash(&got) == inject.ConfigHash(cm)
	}, 30*time.Second, 100*time.Millisecond, "the rollout did not write the new config hash")

	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	assert.Eventually(t, func() bool {
		list, err := cs.EventsV1().Events(ns.Name).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		reasons := map[string]bool{}
		for _, e := range list.Items {
			reasons[e.Reason] = true
		}
		// No webhook is registered here: the re-apply is allowed (RBAC) but injects nothing.
		return reasons[string(controller.ReasonNotInjected)] && reasons[controller.EventConfigRollout] && reasons[controller.EventReinjectFailed]
	}, 10*time.Second, 100*time.Millisecond, "the Events were not recorded")
}

// applyFile creates every object of a manifest file (that may exist already).
func applyFile(t *testing.T, ctx context.Context, c client.Client, file string) {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	docs, err := manifest.Read(f)
	require.NoError(t, err)
	for _, d := range docs {
		if d.Kind == "" {
			continue
		}
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal(d.YAML, &u.Object), file)
		if err := c.Create(ctx, u); err != nil && !strings.Contains(err.Error(), "already exists") {
			require.NoError(t, err, fmt.Sprintf("%s: %s %s", file, d.Kind, u.GetName()))
		}
	}
}
