package admission

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// Webhooks, the values of the webhook label.
const (
	// WebhookMutate: the mutating handlers (injection, config stubs).
	WebhookMutate = "mutate"
	// WebhookValidate: the validating handlers (the policy).
	WebhookValidate = "validate"
)

// Outcomes of an admission decision, the values of the outcome label.
const (
	// OutcomeInjected: the object was changed (a patch was returned).
	OutcomeInjected = "injected"
	// OutcomeUnchanged: the object already was what injection makes it (no patch).
	OutcomeUnchanged = "unchanged"
	// OutcomeCompliant: the object complies with the policy.
	OutcomeCompliant = "compliant"
	// OutcomeWarned: the object violates the policy and was admitted with warnings (Warn).
	OutcomeWarned = "warned"
	// OutcomeSkipped: the object opted out, sits in an exempt namespace, is no proxy, or the
	// operation is not one we review.
	OutcomeSkipped = "skipped"
	// OutcomeDenied: the object asks for something invalid, or violates the policy (Deny).
	OutcomeDenied = "denied"
	// OutcomeError: the request could not be processed (a malformed review, an undecodable
	// object, a lookup that failed).
	OutcomeError = "error"
)

// decided records one decision, in the counter and as one structured log line, and returns resp.
// The resource label names a subresource after a slash (daemonsets/status).
func decided(ctx context.Context, webhook string, req admission.Request, outcome, reason string, resp admission.Response) admission.Response {
	resource := req.Resource.Resource
	if req.SubResource != "" {
		resource += "/" + req.SubResource
	}
	admissionDecisions.WithLabelValues(webhook, resource, outcome).Inc()
	log.FromContext(ctx).Info("admission decision", "webhook", webhook,
		"resource", resource, "namespace", req.Namespace, "name", req.Name,
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
