package e2e

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestRenderOutputDeletes: the proxies are not the install's to remove (README "Uninstall"), so
// the output that created them removes them. What `metrics-proxy render` prints (its own code,
// manifest.Render), applied with `kubectl apply -f -` through the webhook (the stub DaemonSet
// injected, the stub ConfigMap filled), is deleted by `kubectl delete -f -` of the same output:
// every object, the mutated ones included, is gone, and kubectl reports no error.
func TestRenderOutputDeletes(t *testing.T) {
	assets, err := harness.Assets()
	if err != nil {
		testtool.Missing(t, err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cp, err := harness.Start(ctx, harness.Options{Assets: assets})
	require.NoError(t, err)
	defer cp.Stop()

	const ns = "monitoring"
	for _, args := range [][]string{{"create", "namespace", ns},
		{"label", "namespace", ns, names.NamespaceInjectionLabel + "=enabled"}} {
		_, _, err := cp.Kubectl(ctx, "", args...)
		require.NoError(t, err)
	}
	docs, err := manifest.Render(manifest.RenderOptions{Namespace: ns, ScraperNamespace: ns, ScraperServiceAccount: "prometheus"})
	require.NoError(t, err)
	var rendered bytes.Buffer
	require.NoError(t, manifest.Write(&rendered, docs))

	_, _, err = cp.Kubectl(ctx, rendered.String(), "apply", "-f", "-")
	require.NoError(t, err)
	for _, name := range []string{names.ControlPlaneDaemonSet, names.NodesDaemonSet} {
		ds := &appsv1.DaemonSet{}
		require.NoError(t, cp.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, ds))
		require.Contains(t, ds.Annotations, names.StatusAnnotation, "the webhook injected the stub %s", name)
	}

	out, _, err := cp.Kubectl(ctx, rendered.String(), "delete", "-f", "-")
	require.NoError(t, err)
	require.Len(t, docs, 6, "two ConfigMaps and DaemonSets (control plane, nodes), ClusterRole, ClusterRoleBinding")
	for _, d := range docs {
		o := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal(d.YAML, &o.Object))
		assert.Contains(t, out, o.GetName()+"\" deleted", "kubectl deleted %s %s", o.GetKind(), o.GetName())
		err := cp.Client.Get(ctx, client.ObjectKeyFromObject(o), o)
		assert.True(t, apierrors.IsNotFound(err), "%s %s/%s left: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
	}
}
