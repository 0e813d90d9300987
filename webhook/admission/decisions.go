package admission

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// Outcomes of an injection decision, the values of the outcome label.
const (
	// OutcomeInjected: the object was changed (a patch was returned).
	OutcomeInjected = "injected"
	// OutcomeUnchanged: the object already was what injection makes it (no patch).
	OutcomeUnchanged = "unchanged"
	// OutcomeSkipped: the object opted out or the operation is not one we mutate.
	OutcomeSkipped = "skipped"
	// OutcomeDenied: the object asks for something invalid (a bad annotation value).
	OutcomeDenied = "denied"
	// OutcomeError: the request could not be processed (an undecodable object).
	OutcomeError = "error"
)

// decided records one decision, in the counter and as one structured log line, and returns resp.
func decided(ctx context.Context, req admission.Request, outcome, reason string, resp admission.Response) admission.Response {
	injectionDecisions.WithLabelValues(req.Resource.Resource, outcome).Inc()
	log.FromContext(ctx).Info("injection decision",
		"resource", req.Resource.Resource, "namespace", req.Namespace, "name", req.Name,
		"uid", req.UID, "operation", req.Operation, "outcome", outcome, "reason", reason)
	return resp
}

// patchOutcome tells injected from unchanged by the patch a response carries.
func patchOutcome(resp admission.Response) (outcome, reason string) {
	if len(resp.Patches) == 0 {
		return OutcomeUnchanged, "already complete"
	}
	return OutcomeInjected, "patched"
}
