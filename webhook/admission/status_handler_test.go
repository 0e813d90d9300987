package admission_test

import (
	"net/http"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestStatusSubresourceHandler: the DaemonSet validator's decisions on daemonsets/status (no
// reader needed: only the metadata is read).
func TestStatusSubresourceHandler(t *testing.T) {
	deny := admission.DaemonSetValidator{Policies: admission.StaticPolicy{P: &policy.Policy{ExemptNamespaces: []string{"break-glass"}}}}
	warn := admission.DaemonSetValidator{Policies: admission.StaticPolicy{P: &policy.Policy{Enforcement: policy.EnforcementWarn}}}
	optedOut := `{"metadata":{"name":"p","labels":{"` + names.InjectLabel + `":"false"}},"spec":{"template":{"spec":{"containers":[{"name":"x","image":"evil"}]}}}}`
	relabelled := `{"metadata":{"name":"p","labels":{"` + names.InjectLabel + `":"true"}},"spec":{"template":{"spec":{"containers":[{"name":"x","image":"evil"}]}}}}`
	withStatus := `{"metadata":{"name":"p","labels":{"` + names.InjectLabel + `":"false"},"annotations":{"` + names.StatusAnnotation + `":"{}"}},"status":{"numberReady":1}}`
	audited := `{"metadata":{"name":"p","labels":{"` + names.InjectLabel + `":"false","team":"a"},"annotations":{"` + names.AuditAnnotation + `":"{}"}},"status":{"numberReady":2}}`
	for _, tt := range []handlerCase{
		{name: "the opt-out label set back to true", handler: deny, op: admissionv1.Update, namespace: "n", sub: "status",
			object: relabelled, old: optedOut, message: "status-metadata: the label " + names.InjectLabel + " is changed through the status subresource; change it through the DaemonSet itself"},
		{name: "a status annotation added", handler: deny, op: admissionv1.Update, namespace: "n", sub: "status",
			object: withStatus, old: optedOut, message: "the annotation " + names.StatusAnnotation + " is added"},
		{name: "status fields, another label and the audit's annotation", handler: deny, op: admissionv1.Update, namespace: "n", sub: "status",
			object: audited, old: optedOut, allowed: true},
		{name: "the spec of a status write is not judged (the API server keeps the stored one)", handler: deny, op: admissionv1.Update,
			namespace: "n", sub: "status", object: optedOut, old: optedOut, allowed: true},
		{name: "exempt namespace", handler: deny, op: admissionv1.Update, namespace: "break-glass", sub: "status",
			object: relabelled, old: optedOut, allowed: true},
		{name: "Warn admits with a warning", handler: warn, op: admissionv1.Update, namespace: "n", sub: "status",
			object: relabelled, old: optedOut, allowed: true, warnings: []string{"status-metadata"}},
		{name: "undecodable metadata", handler: deny, op: admissionv1.Update, namespace: "n", sub: "status",
			object: `{"metadata":{"labels":[]}}`, old: optedOut, code: http.StatusBadRequest, message: "decode DaemonSet metadata"},
		{name: "undecodable old metadata", handler: deny, op: admissionv1.Update, namespace: "n", sub: "status",
			object: optedOut, old: `{"metadata":7}`, code: http.StatusBadRequest, message: "decode the old DaemonSet's metadata"},
		{name: "no old object", handler: deny, op: admissionv1.Update, namespace: "n", sub: "status",
			object: relabelled, code: http.StatusBadRequest, message: "without the old object"},
		{name: "another subresource", handler: deny, op: admissionv1.Update, namespace: "n", sub: "scale",
			object: relabelled, old: optedOut, code: http.StatusBadRequest, message: `subresource "scale"`},
	} {
		tt.run(t, dsKind)
	}
}
