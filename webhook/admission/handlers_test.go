package admission_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/inject"
)

// TestHandlers covers the handlers' decisions that need no API server: operations they ignore,
// undecodable objects, denials, and the Pod Security warning (namespaces from a fake reader).
func TestHandlers(t *testing.T) {
	namespaces := fake.NewClientBuilder().WithObjects(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "restricted", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "privileged", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}}},
	).Build()
	stub := `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"p"},"spec":{"template":{"spec":{"containers":[]}}}}`
	tests := []struct {
		name      string
		handler   cradmission.Handler
		op        admissionv1.Operation
		namespace string
		object    string
		allowed   bool
		code      int32
		patched   bool
		message   string
		warning   string
	}{
		{name: "delete is ignored", handler: injector(namespaces), op: admissionv1.Delete, object: stub, allowed: true},
		{name: "stub is patched", handler: injector(namespaces), op: admissionv1.Create, namespace: "privileged", object: stub, allowed: true, patched: true},
		{name: "restricted namespace warns", handler: injector(namespaces), op: admissionv1.Create, namespace: "restricted", object: stub,
			allowed: true, patched: true, warning: `namespace "restricted" enforces Pod Security level "restricted", which forbids hostNetwork`},
		{name: "unknown namespace: no warning", handler: injector(namespaces), op: admissionv1.Create, namespace: "absent", object: stub, allowed: true, patched: true},
		{name: "opted out", handler: injector(namespaces), op: admissionv1.Update, object: `{"metadata":{"name":"p","labels":{"metrics-proxy.io/inject":"false"}}}`, allowed: true},
		{name: "undecodable", handler: injector(namespaces), op: admissionv1.Create, object: `{"metadata":"x"}`, code: http.StatusBadRequest},
		{name: "bad image denied", handler: injector(namespaces), op: admissionv1.Create, namespace: "privileged",
			object: `{"metadata":{"name":"p","annotations":{"metrics-proxy.io/image":"UPPER/case"}},"spec":{}}`,
			code:   http.StatusForbidden, message: `DaemonSet privileged/p: invalid metrics-proxy annotation: annotation metrics-proxy.io/image: "UPPER/case"`},
		{name: "config stub filled", handler: admission.ConfigMapFiller{}, op: admissionv1.Create,
			object: `{"metadata":{"name":"c","labels":{"metrics-proxy.io/config":"haproxy"}}}`, allowed: true, patched: true},
		{name: "config with bad components denied", handler: admission.ConfigMapFiller{}, op: admissionv1.Create, namespace: "n",
			object: `{"metadata":{"name":"c","labels":{"metrics-proxy.io/config":"haproxy"},"annotations":{"metrics-proxy.io/components":""}}}`,
			code:   http.StatusForbidden, message: "ConfigMap n/p: invalid metrics-proxy annotation"},
		{name: "unlabelled config untouched", handler: admission.ConfigMapFiller{}, op: admissionv1.Create, object: `{"metadata":{"name":"c"}}`, allowed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.handler.Handle(context.Background(), cradmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
				Operation: tt.op, Namespace: tt.namespace, Name: "p", Object: runtime.RawExtension{Raw: []byte(tt.object)}}})
			assert.Equal(t, tt.allowed, resp.Allowed, "result: %+v", resp.Result)
			if tt.code != 0 {
				assert.Equal(t, tt.code, resp.Result.Code)
			}
			assert.Equal(t, tt.patched, len(resp.Patches) > 0, "patches: %v", resp.Patches)
			if tt.message != "" {
				assert.Contains(t, resp.Result.Message, tt.message)
			}
			if tt.warning != "" {
				assert.Len(t, resp.Warnings, 1)
				assert.Contains(t, resp.Warnings[0], tt.warning)
			} else {
				assert.Empty(t, resp.Warnings)
			}
		})
	}
}

func injector(namespaces client.Reader) cradmission.Handler {
	return &admission.DaemonSetInjector{Config: inject.Config{Version: "test"}, Namespaces: namespaces}
}
