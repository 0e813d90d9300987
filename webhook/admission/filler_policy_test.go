package admission_test

import (
	"context"
	"encoding/json"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestConfigMapFillerFollowsPolicy: a stub config filled under a policy that allows only some
// methods and more paths complies with that policy; filled without it, it does not.
func TestConfigMapFillerFollowsPolicy(t *testing.T) {
	p := policy.Default()
	p.AllowedMethods = []string{"GET", "HEAD"}
	p.AllowedPaths = []string{"/metrics", "/metrics/slis"}
	raw := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"n","labels":{"metrics-proxy.io/config":"haproxy"}}}`)
	fill := func(h admission.ConfigMapFiller) string {
		req := cradmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{UID: "u", Operation: admissionv1.Create, Namespace: "n", Name: "c",
			Kind:   metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
			Object: runtime.RawExtension{Raw: raw}}}
		resp := h.Handle(context.Background(), req)
		require.True(t, resp.Allowed, "%+v", resp.Result)
		ops, err := json.Marshal(resp.Patches)
		require.NoError(t, err)
		patch, err := jsonpatch.DecodePatch(ops)
		require.NoError(t, err)
		out, err := patch.Apply(raw)
		require.NoError(t, err)
		var cm corev1.ConfigMap
		require.NoError(t, json.Unmarshal(out, &cm))
		return cm.Data[names.ConfigKey]
	}
	filled := fill(admission.ConfigMapFiller{Policies: admission.StaticPolicy{P: p}})
	assert.Contains(t, filled, "http-request deny unless { method GET HEAD }")
	assert.Empty(t, policy.ValidateConfig([]byte(filled), p))
	assert.NotEmpty(t, policy.ValidateConfig([]byte(fill(admission.ConfigMapFiller{})), p), "without the policy the filled config violates it")
}
