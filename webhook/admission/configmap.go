package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// ConfigMapFiller is the mutating handler for proxy ConfigMaps: it fills a stub's haproxy.cfg,
// letting through the paths and methods the policy in force allows (so that the filled stub
// complies with it).
type ConfigMapFiller struct {
	// Policies gives the policy in force; nil: the default policy.
	Policies PolicySource
}

var _ admission.Handler = ConfigMapFiller{}

// Handle implements admission.Handler.
func (h ConfigMapFiller) Handle(ctx context.Context, req admission.Request) admission.Response {
	if err := malformedRequest(req, configMapKind); err != nil {
		return malformed(ctx, WebhookMutate, req, err)
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return decided(ctx, WebhookMutate, req, OutcomeSkipped, "operation "+string(req.Operation), admission.Allowed(""))
	}
	if v := policy.CheckNesting(req.Object.Raw); v != nil {
		msg := fmt.Sprintf("ConfigMap %s/%s: %s", req.Namespace, req.Name, v)
		return decided(ctx, WebhookMutate, req, OutcomeDenied, v.String(), admission.Denied(msg))
	}
	var f inject.Filter
	if h.Policies != nil {
		p := h.Policies.Policy()
		f = inject.Filter{Paths: p.AllowedPaths, Methods: p.AllowedMethods}
	}
	out, err := inject.ConfigMapJSONFiltered(req.Object.Raw, f)
	switch {
	case errors.Is(err, inject.ErrInvalidAnnotation):
		msg := fmt.Sprintf("ConfigMap %s/%s: %v", req.Namespace, req.Name, err)
		return decided(ctx, WebhookMutate, req, OutcomeDenied, err.Error(), admission.Denied(msg))
	case err != nil:
		return decided(ctx, WebhookMutate, req, OutcomeError, err.Error(), admission.Errored(http.StatusBadRequest, err))
	}
	resp := admission.PatchResponseFromRaw(req.Object.Raw, out)
	outcome, reason := patchOutcome(resp)
	return decided(ctx, WebhookMutate, req, outcome, reason, resp)
}
