package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/e2e/bench"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestNativePair: on the real kube-apiserver, the benchmark's MutatingAdmissionPolicy completes a
// stub into exactly the spec injection writes (so scenario (c) does the webhook's work), and the
// ValidatingAdmissionPolicy admits that proxy and denies one with an image the policy does not
// allow (so scenario (c+v) validates).
func TestNativePair(t *testing.T) {
	if _, err := harness.Assets(); err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("no control plane in bin/ (make control-plane): %v", err)
		}
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cp, err := startControlPlane(ctx)
	require.NoError(t, err)
	defer cp.stop()
	c := cp.client
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "native",
		Labels: map[string]string{names.NamespaceInjectionLabel: "enabled"}}}
	require.NoError(t, c.Create(ctx, ns))
	for _, data := range [][]byte{bench.MutatingAdmissionPolicyYAML, bench.ValidatingAdmissionPolicyYAML} {
		objs, err := readPolicies(data)
		require.NoError(t, err)
		for _, o := range objs {
			require.NoError(t, c.Create(ctx, o))
		}
	}
	// What injection writes, defaulted by the API server in a namespace no policy selects.
	plain := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "plain"}}
	require.NoError(t, c.Create(ctx, plain))
	want, err := complete("probe", plain.Name)
	require.NoError(t, err)
	require.NoError(t, c.Create(ctx, want, client.DryRunAll))

	var got *appsv1.DaemonSet
	require.Eventually(t, func() bool {
		got = stub("probe", ns.Name)
		return c.Create(ctx, got, client.DryRunAll) == nil && got.Annotations[names.StatusAnnotation] != ""
	}, 30*time.Second, 100*time.Millisecond, "the policies never admitted the stub")
	assert.Equal(t, want.Spec, got.Spec)
	assert.JSONEq(t, `{"version":"`+bench.MutatingAdmissionPolicyVersion+`"}`, got.Annotations[names.StatusAnnotation])

	var denied error
	require.Eventually(t, func() bool {
		bad := stub("bad-image", ns.Name)
		bad.Annotations = map[string]string{names.ImageAnnotation: "registry.example/other/haproxy:1"}
		denied = c.Create(ctx, bad, client.DryRunAll)
		return denied != nil && (apierrors.IsForbidden(denied) || apierrors.IsInvalid(denied))
	}, 30*time.Second, 100*time.Millisecond, "the validating policy never denied the image: %v", denied)
	assert.Contains(t, denied.Error(), "image not allowed by the policy")
}
