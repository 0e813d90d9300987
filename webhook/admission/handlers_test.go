package admission_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

var (
	dsKind = metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}
	cmKind = metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
)

// handlerCase is one review sent to a handler and what must come back.
type handlerCase struct {
	name      string
	handler   cradmission.Handler
	op        admissionv1.Operation
	kind      metav1.GroupVersionKind // zero: the handler's own kind
	uid       string                  // empty: "uid-1"; "-": none
	namespace string
	sub       string // the subresource, status say
	object    string
	old       string
	allowed   bool
	code      int32
	patched   bool
	message   string   // a substring of the result's message
	warnings  []string // substrings, one per expected warning
}

func (tt handlerCase) run(t *testing.T, kind metav1.GroupVersionKind) {
	t.Run(tt.name, func(t *testing.T) {
		if tt.kind != (metav1.GroupVersionKind{}) {
			kind = tt.kind
		}
		uid := tt.uid
		switch uid {
		case "":
			uid = "uid-1"
		case "-":
			uid = ""
		}
		req := cradmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			Kind: kind, Operation: tt.op, Namespace: tt.namespace, Name: "p", SubResource: tt.sub,
			Object: runtime.RawExtension{Raw: []byte(tt.object)}}}
		req.UID = typesUID(uid)
		if tt.old != "" {
			req.OldObject = runtime.RawExtension{Raw: []byte(tt.old)}
		}
		resp := tt.handler.Handle(context.Background(), req)
		assert.Equal(t, tt.allowed, resp.Allowed, "result: %+v", resp.Result)
		if tt.code != 0 {
			assert.Equal(t, tt.code, resp.Result.Code)
		}
		assert.Equal(t, tt.patched, len(resp.Patches) > 0, "patches: %v", resp.Patches)
		if tt.message != "" {
			assert.Contains(t, resp.Result.Message, tt.message)
		}
		require.Len(t, resp.Warnings, len(tt.warnings), "warnings: %q", resp.Warnings)
		for i, w := range tt.warnings {
			assert.Contains(t, resp.Warnings[i], w)
		}
	})
}

// TestMutatingHandlers covers the mutating handlers' decisions that need no API server:
// operations they ignore, malformed reviews, undecodable objects, denials, and the Pod Security
// warning (namespaces from a fake reader).
func TestMutatingHandlers(t *testing.T) {
	namespaces := fake.NewClientBuilder().WithObjects(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "restricted", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "privileged", Labels: map[string]string{"pod-security.kubernetes.io/enforce": "privileged"}}},
	).Build()
	stub := `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"p"},"spec":{"template":{"spec":{"containers":[]}}}}`
	for _, tt := range []handlerCase{
		{name: "delete is ignored", handler: injector(namespaces), op: admissionv1.Delete, object: stub, allowed: true},
		{name: "stub is patched", handler: injector(namespaces), op: admissionv1.Create, namespace: "privileged", object: stub, allowed: true, patched: true},
		{name: "restricted namespace warns", handler: injector(namespaces), op: admissionv1.Create, namespace: "restricted", object: stub,
			allowed: true, patched: true, warnings: []string{`namespace "restricted" enforces Pod Security level "restricted", which forbids hostNetwork`}},
		{name: "unknown namespace: no warning", handler: injector(namespaces), op: admissionv1.Create, namespace: "absent", object: stub, allowed: true, patched: true},
		{name: "opted out", handler: injector(namespaces), op: admissionv1.Update, object: `{"metadata":{"name":"p","labels":{"metrics-proxy.io/inject":"false"}}}`, allowed: true},
		{name: "undecodable", handler: injector(namespaces), op: admissionv1.Create, object: `{"metadata":"x"}`, code: http.StatusBadRequest},
		{name: "being deleted: neither injected nor denied (its finalizers must go)", handler: injector(namespaces), op: admissionv1.Update, namespace: "privileged",
			object: `{"metadata":{"name":"p","deletionTimestamp":"2026-01-01T00:00:00Z","annotations":{"metrics-proxy.io/image":"UPPER/case"}},"spec":{}}`,
			old:    `{"metadata":{"name":"p","deletionTimestamp":"2026-01-01T00:00:00Z","annotations":{"metrics-proxy.io/image":"UPPER/case"}},"spec":{}}`, allowed: true},
		{name: "a create carrying a deletionTimestamp (server-side apply) is injected", handler: injector(namespaces), op: admissionv1.Create, namespace: "privileged",
			object: `{"metadata":{"name":"p","deletionTimestamp":"2026-01-01T00:00:00Z"},"spec":{}}`, allowed: true, patched: true},
		{name: "an update that adds a deletionTimestamp is injected", handler: injector(namespaces), op: admissionv1.Update, namespace: "privileged",
			object: `{"metadata":{"name":"p","deletionTimestamp":"2026-01-01T00:00:00Z"},"spec":{}}`, old: `{"metadata":{"name":"p"},"spec":{}}`, allowed: true, patched: true},
		{name: "bad image denied", handler: injector(namespaces), op: admissionv1.Create, namespace: "privileged",
			object: `{"metadata":{"name":"p","annotations":{"metrics-proxy.io/image":"UPPER/case"}},"spec":{}}`,
			code:   http.StatusForbidden, message: `DaemonSet privileged/p: invalid metrics-proxy annotation: annotation metrics-proxy.io/image: "UPPER/case"`},
		{name: "thousands of containers denied before injection", handler: injector(namespaces), op: admissionv1.Create, namespace: "privileged",
			object: `{"metadata":{"name":"p"},"spec":{"template":{"spec":{"containers":[` + strings.Repeat(`{"name":"c"},`, 4999) + `{"name":"c"}]}}}}`,
			code:   http.StatusForbidden, message: "object-size: the pod has 5000 containers"},
		{name: "deep nesting denied", handler: injector(namespaces), op: admissionv1.Create,
			object: `{"metadata":{"name":"p"},"spec":{"x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}}`,
			code:   http.StatusForbidden, message: "object-size: the object nests deeper than 64 levels"},
		{name: "no uid is an error", handler: injector(namespaces), op: admissionv1.Create, uid: "-", object: stub, code: http.StatusBadRequest, message: "no request uid"},
		{name: "empty review is an error", handler: injector(namespaces), uid: "-", kind: metav1.GroupVersionKind{}, code: http.StatusBadRequest, message: "malformed admission review"},
		{name: "a ConfigMap on the DaemonSet path is an error", handler: injector(namespaces), op: admissionv1.Create, kind: cmKind,
			object: `{"metadata":{"name":"p"}}`, code: http.StatusBadRequest, message: "kind v1/ConfigMap, this path reviews apps/v1/DaemonSet"},
		{name: "create without an object is an error", handler: injector(namespaces), op: admissionv1.Create, code: http.StatusBadRequest, message: "CREATE without an object"},
	} {
		tt.run(t, dsKind)
	}
	for _, tt := range []handlerCase{
		{name: "config stub filled", handler: admission.ConfigMapFiller{}, op: admissionv1.Create,
			object: `{"metadata":{"name":"c","labels":{"metrics-proxy.io/config":"haproxy"}}}`, allowed: true, patched: true},
		{name: "config with bad components denied", handler: admission.ConfigMapFiller{}, op: admissionv1.Create, namespace: "n",
			object: `{"metadata":{"name":"c","labels":{"metrics-proxy.io/config":"haproxy"},"annotations":{"metrics-proxy.io/components":""}}}`,
			code:   http.StatusForbidden, message: "ConfigMap n/p: invalid metrics-proxy annotation"},
		{name: "unlabelled config untouched", handler: admission.ConfigMapFiller{}, op: admissionv1.Create, object: `{"metadata":{"name":"c"}}`, allowed: true},
		{name: "a DaemonSet on the ConfigMap path is an error", handler: admission.ConfigMapFiller{}, op: admissionv1.Create, kind: dsKind,
			object: `{"metadata":{"name":"c","labels":{"metrics-proxy.io/config":"haproxy"}}}`, code: http.StatusBadRequest, message: "this path reviews v1/ConfigMap"},
	} {
		tt.run(t, cmKind)
	}
}

// TestValidatingHandlers covers the validating handlers' decisions with readers backed by a fake
// client: exempt namespaces, Warn, opt-out, unguarded ConfigMaps, unlabelled ConfigMaps a proxy
// mounts, label removal, bounded denials, malformed reviews.
func TestValidatingHandlers(t *testing.T) {
	seed, err := inject.ConfigMapJSON([]byte(`{"metadata":{"name":"metrics-proxy","labels":{"metrics-proxy.io/config":"haproxy"}}}`))
	require.NoError(t, err)
	var seedCM corev1.ConfigMap
	require.NoError(t, jsonUnmarshal(seed, &seedCM))
	cfg := seedCM.Data[names.ConfigKey]
	bypass := strings.Replace(cfg, "http-request deny", "http-request allow\n  http-request deny", 1)

	cm := func(name, ns string, labels map[string]string, data map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Data: data}
	}
	proxyLabel := map[string]string{names.ConfigLabel: names.ConfigLabelValue}
	mountedDS := proxyDS(t, "mounter", "plain", "replaced")
	reader := fake.NewClientBuilder().WithObjects(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "enabled", Labels: map[string]string{names.NamespaceInjectionLabel: "enabled"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "plain"}},
		cm("metrics-proxy", "plain", proxyLabel, map[string]string{names.ConfigKey: cfg}),
		cm("metrics-proxy", "enabled", nil, map[string]string{names.ConfigKey: cfg}),
		cm("unlabelled", "plain", nil, map[string]string{names.ConfigKey: cfg}),
		cm("leaky", "plain", proxyLabel, map[string]string{names.ConfigKey: bypass}),
		mountedDS,
	).WithIndex(&appsv1.DaemonSet{}, admission.IndexMountedConfigMaps, admission.MountedConfigMaps).Build()
	deny := admission.StaticPolicy{P: &policy.Policy{ExemptNamespaces: []string{"break-glass"}}}
	warn := admission.StaticPolicy{P: &policy.Policy{Enforcement: policy.EnforcementWarn}}
	dsv := func(p admission.PolicySource) cradmission.Handler {
		return admission.DaemonSetValidator{Policies: p, ConfigMaps: reader, Namespaces: reader}
	}
	cmv := func(p admission.PolicySource) cradmission.Handler {
		return admission.ConfigMapValidator{Policies: p, Namespaces: reader, DaemonSets: reader}
	}
	ds := func(configMap string, mutate func(*appsv1.DaemonSet)) string {
		d := proxyDS(t, "p", "", configMap)
		if mutate != nil {
			mutate(d)
		}
		return jsonString(t, d)
	}
	cmJSON := func(labels map[string]string, data map[string]string) string {
		return jsonString(t, cm("p", "", labels, data))
	}

	for _, tt := range []handlerCase{
		{name: "compliant proxy", handler: dsv(deny), op: admissionv1.Create, namespace: "plain", object: ds("metrics-proxy", nil), allowed: true},
		{name: "non-compliant mounted config denied", handler: dsv(deny), op: admissionv1.Create, namespace: "plain", object: ds("leaky", nil),
			code: http.StatusForbidden, message: "configmap/leaky:haproxy.cfg:"},
		{name: "Warn admits with one warning per violation", handler: dsv(warn), op: admissionv1.Create, namespace: "plain", object: ds("leaky", nil),
			allowed: true, warnings: []string{"metrics-proxy policy (Warn): DaemonSet plain/p: configmap/leaky:haproxy.cfg:"}},
		{name: "exempt namespace skipped", handler: dsv(deny), op: admissionv1.Create, namespace: "break-glass", object: ds("leaky", nil), allowed: true},
		{name: "opted out skipped", handler: dsv(deny), op: admissionv1.Create, namespace: "plain",
			object: ds("leaky", func(d *appsv1.DaemonSet) { d.Labels = map[string]string{names.InjectLabel: "false"} }), allowed: true},
		{name: "unguarded ConfigMap outside enabled namespaces denied", handler: dsv(deny), op: admissionv1.Create, namespace: "plain",
			object: ds("unlabelled", nil), code: http.StatusForbidden, message: "configmap/unlabelled: config-volume: the ConfigMap unlabelled is not labelled"},
		{name: "unlabelled ConfigMap in an enabled namespace admitted", handler: dsv(deny), op: admissionv1.Create, namespace: "enabled",
			object: ds("metrics-proxy", nil), allowed: true},
		{name: "missing ConfigMap denied", handler: dsv(deny), op: admissionv1.Create, namespace: "plain", object: ds("absent", nil),
			code: http.StatusForbidden, message: "config-volume: the ConfigMap absent does not exist"},
		{name: "another container denied", handler: dsv(deny), op: admissionv1.Update, namespace: "plain",
			object: ds("metrics-proxy", func(d *appsv1.DaemonSet) {
				d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, corev1.Container{Name: "side", Image: names.DefaultImage})
			}), code: http.StatusForbidden, message: "other-container"},
		{name: "5000 containers denied before decoding", handler: dsv(warn), op: admissionv1.Create, namespace: "plain",
			object: `{"spec":{"template":{"spec":{"containers":[` + strings.Repeat(`{},`, 4999) + `{}]}}}}`, allowed: true,
			warnings: []string{"object-size: the pod has 5000 containers"}},
		{name: "delete skipped", handler: dsv(deny), op: admissionv1.Delete, namespace: "plain", allowed: true},
		{name: "no uid is an error", handler: dsv(deny), op: admissionv1.Create, uid: "-", namespace: "plain", object: ds("metrics-proxy", nil),
			code: http.StatusBadRequest, message: "no request uid"},
		{name: "a ConfigMap on the DaemonSet path is an error", handler: dsv(deny), op: admissionv1.Create, kind: cmKind, namespace: "plain",
			object: cmJSON(proxyLabel, map[string]string{names.ConfigKey: bypass}), code: http.StatusBadRequest, message: "this path reviews apps/v1/DaemonSet"},
	} {
		tt.run(t, dsKind)
	}
	for _, tt := range []handlerCase{
		{name: "labelled compliant config", handler: cmv(deny), op: admissionv1.Create, namespace: "plain",
			object: cmJSON(proxyLabel, map[string]string{names.ConfigKey: cfg}), allowed: true},
		{name: "labelled bypass denied", handler: cmv(deny), op: admissionv1.Create, namespace: "plain",
			object: cmJSON(proxyLabel, map[string]string{names.ConfigKey: bypass}), code: http.StatusForbidden, message: "http-request-action"},
		{name: "Warn admits with warnings", handler: cmv(warn), op: admissionv1.Create, namespace: "plain",
			object: cmJSON(proxyLabel, map[string]string{names.ConfigKey: bypass}), allowed: true, warnings: []string{"http-request-action"}},
		{name: "exempt namespace skipped", handler: cmv(deny), op: admissionv1.Create, namespace: "break-glass",
			object: cmJSON(proxyLabel, map[string]string{names.ConfigKey: bypass}), allowed: true},
		{name: "unlabelled config nobody mounts skipped", handler: cmv(deny), op: admissionv1.Create, namespace: "plain",
			object: cmJSON(nil, map[string]string{names.ConfigKey: bypass}), allowed: true},
		{name: "unlabelled config in an enabled namespace checked", handler: cmv(deny), op: admissionv1.Create, namespace: "enabled",
			object: cmJSON(nil, map[string]string{names.ConfigKey: bypass}), code: http.StatusForbidden, message: "http-request-action"},
		{name: "unlabelled config a proxy mounts checked", handler: cmv(deny), op: admissionv1.Create, namespace: "plain",
			object: jsonString(t, cm("replaced", "", nil, map[string]string{names.ConfigKey: bypass})), code: http.StatusForbidden, message: "http-request-action"},
		{name: "label removal refused", handler: cmv(deny), op: admissionv1.Update, namespace: "plain",
			old: cmJSON(proxyLabel, map[string]string{names.ConfigKey: cfg}), object: cmJSON(nil, map[string]string{names.ConfigKey: cfg}),
			code: http.StatusForbidden, message: "config-label: the label metrics-proxy.io/config=haproxy is removed"},
		{name: "other keys refused", handler: cmv(deny), op: admissionv1.Create, namespace: "plain",
			object: cmJSON(proxyLabel, map[string]string{names.ConfigKey: cfg, "evil.cfg": bypass}), code: http.StatusForbidden, message: "config-keys"},
		{name: "a huge config is refused unparsed", handler: cmv(deny), op: admissionv1.Create, namespace: "plain",
			object: cmJSON(proxyLabel, map[string]string{names.ConfigKey: strings.Repeat("listen x\n", 10000)}), code: http.StatusForbidden,
			message: "(1 violation):\nconfigmap/p:haproxy.cfg: object-size"},
		{name: "no uid is an error", handler: cmv(deny), op: admissionv1.Create, uid: "-", namespace: "plain",
			object: cmJSON(proxyLabel, map[string]string{names.ConfigKey: bypass}), code: http.StatusBadRequest},
	} {
		tt.run(t, cmKind)
	}

	t.Run("a denial names the first 20 violations and counts the rest", func(t *testing.T) {
		lines := strings.Repeat("  bogus-keyword\n", 500) // and no frontend: 501 violations
		raw := jsonString(t, cm("p", "", proxyLabel, map[string]string{names.ConfigKey: "global\n" + lines}))
		resp := cmv(deny).Handle(context.Background(), cradmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID: "u", Kind: cmKind, Operation: admissionv1.Create, Namespace: "plain", Name: "p", Object: runtime.RawExtension{Raw: []byte(raw)}}})
		require.False(t, resp.Allowed)
		msg := resp.Result.Message
		assert.Equal(t, admission.MaxReported+2, strings.Count(msg, "\n")+1, "a header, 20 violations, a count:\n%s", msg)
		assert.Contains(t, msg, "... and 481 more violations")
		assert.Less(t, len(msg), 32<<10)
	})
}

// silentReader never answers: each read waits for its context to end, and records the deadline it
// was given.
type silentReader struct {
	client.Reader
	deadlines chan time.Duration
}

func (r silentReader) Get(ctx context.Context, _ client.ObjectKey, _ client.Object, _ ...client.GetOption) error {
	d, ok := ctx.Deadline()
	if !ok {
		r.deadlines <- -1
		return errors.New("no deadline: the test would hang")
	}
	r.deadlines <- time.Until(d)
	<-ctx.Done()
	return ctx.Err()
}

// TestPodSecurityLookupBounded: a namespace lookup that never answers costs the mutation at most
// admission.AdvisoryTimeout, well inside the webhook's 5 s, and only the warning is lost.
func TestPodSecurityLookupBounded(t *testing.T) {
	reader := silentReader{deadlines: make(chan time.Duration, 1)}
	h := &admission.DaemonSetInjector{Config: inject.Config{Version: "test"}, Namespaces: reader}
	resp := h.Handle(context.Background(), cradmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "u", Kind: dsKind, Operation: admissionv1.Create, Namespace: "restricted", Name: "p",
		Object: runtime.RawExtension{Raw: []byte(`{"metadata":{"name":"p"},"spec":{"template":{"spec":{"containers":[]}}}}`)}}})
	assert.True(t, resp.Allowed)
	assert.NotEmpty(t, resp.Patches, "injected")
	assert.Empty(t, resp.Warnings, "the advisory warning is skipped")
	d := <-reader.deadlines
	assert.Positive(t, d, "the lookup had a deadline")
	assert.LessOrEqual(t, d, admission.AdvisoryTimeout)
}

func injector(namespaces client.Reader) cradmission.Handler {
	return &admission.DaemonSetInjector{Config: inject.Config{Version: "test"}, Namespaces: namespaces}
}

// proxyDS is an injected proxy DaemonSet mounting configMap, labelled to opt in.
func proxyDS(t *testing.T, name, namespace, configMap string) *appsv1.DaemonSet {
	t.Helper()
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace,
		Labels:      map[string]string{names.InjectLabel: "true"},
		Annotations: map[string]string{names.ConfigMapAnnotation: configMap}}}
	require.NoError(t, inject.DaemonSet(ds, inject.Config{Version: "test"}))
	return ds
}
