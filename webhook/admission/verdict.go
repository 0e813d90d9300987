package admission

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/metrics-proxy/injector/webhook/policy"
)

// Actions taken on violations, the values of the action label.
const (
	// ActionDeny: the request was denied (enforcement Deny).
	ActionDeny = "deny"
	// ActionWarn: the request was admitted with warnings (enforcement Warn).
	ActionWarn = "warn"
)

// verdict turns the violations of one object into a response under the policy's enforcement:
// a denial that lists every violation, or, in Warn mode, admission with one warning per
// violation. It counts them by rule and action and logs one line for the decision.
func verdict(ctx context.Context, req admission.Request, kind string, vs []policy.Violation, p *policy.Policy) admission.Response {
	logger := log.FromContext(ctx).WithValues("resource", req.Resource.Resource, "namespace", req.Namespace,
		"name", req.Name, "uid", req.UID, "operation", req.Operation)
	if len(vs) == 0 {
		logger.Info("policy decision", "outcome", "compliant")
		return admission.Allowed("")
	}
	action := ActionDeny
	if p.Enforcement == policy.EnforcementWarn {
		action = ActionWarn
	}
	lines := make([]string, len(vs))
	rules := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.String()
		rules[i] = string(v.Rule)
		policyViolations.WithLabelValues(string(v.Rule), action).Inc()
	}
	logger.Info("policy decision", "outcome", action, "violations", len(vs), "rules", rules)
	object := fmt.Sprintf("%s %s/%s", kind, req.Namespace, req.Name)
	if action == ActionWarn {
		warnings := make([]string, len(lines))
		for i, l := range lines {
			warnings[i] = "metrics-proxy policy (Warn): " + object + ": " + l
		}
		return admission.Allowed("").WithWarnings(warnings...)
	}
	return admission.Denied(fmt.Sprintf("%s violates the metrics-proxy policy (%d violations):\n%s",
		object, len(vs), strings.Join(lines, "\n")))
}
