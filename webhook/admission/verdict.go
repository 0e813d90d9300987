package admission

import (
	"context"
	"fmt"
	"slices"
	"strings"

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

// Bounds on what one decision writes, whatever the object: a denial, the warnings and the log
// line name the first MaxReported violations and count the rest; each is cut at MaxViolationBytes.
const (
	// MaxReported is the most violations a denial, the warnings or a log line names.
	MaxReported = 20
	// MaxViolationBytes is the longest a reported violation may be.
	MaxViolationBytes = 512
)

// verdict turns the violations of one object into a response under the policy's enforcement:
// a denial that lists the violations, or, in Warn mode, admission with one warning per
// violation (both bounded by reported). It counts the violations by rule and action and records
// the decision with decided.
func verdict(ctx context.Context, req admission.Request, kind string, vs []policy.Violation, p *policy.Policy) admission.Response {
	return verdictOn(ctx, req, fmt.Sprintf("%s %s/%s", kind, req.Namespace, req.Name), vs, p)
}

// verdictOn is verdict with the object named as the denial and the warnings should name it.
func verdictOn(ctx context.Context, req admission.Request, object string, vs []policy.Violation, p *policy.Policy) admission.Response {
	if len(vs) == 0 {
		return decided(ctx, WebhookValidate, req, OutcomeCompliant, "no violation", admission.Allowed(""))
	}
	action, outcome := ActionDeny, OutcomeDenied
	if p.Enforcement == policy.EnforcementWarn {
		action, outcome = ActionWarn, OutcomeWarned
	}
	var rules []string
	for _, v := range vs {
		policyViolations.WithLabelValues(string(v.Rule), action).Inc()
		if !slices.Contains(rules, string(v.Rule)) {
			rules = append(rules, string(v.Rule))
		}
	}
	lines := reported(vs)
	reason := fmt.Sprintf("%s of rules %s; first: %s", countOf(len(vs), "violation"), strings.Join(rules, ","), lines[0])
	if action == ActionWarn {
		warnings := make([]string, len(lines))
		for i, l := range lines {
			warnings[i] = "metrics-proxy policy (Warn): " + object + ": " + l
		}
		return decided(ctx, WebhookValidate, req, outcome, reason, admission.Allowed("").WithWarnings(warnings...))
	}
	return decided(ctx, WebhookValidate, req, outcome, reason, admission.Denied(fmt.Sprintf(
		"%s violates the metrics-proxy policy (%s):\n%s", object, countOf(len(vs), "violation"), strings.Join(lines, "\n"))))
}

// reported renders the first MaxReported violations, each cut at MaxViolationBytes, and one more
// line that counts the others. It is the one place that bounds what a decision reports.
func reported(vs []policy.Violation) []string {
	n := min(len(vs), MaxReported)
	lines := make([]string, 0, n+1)
	for _, v := range vs[:n] {
		s := v.String()
		if len(s) > MaxViolationBytes {
			s = strings.ToValidUTF8(s[:MaxViolationBytes], "") + "..."
		}
		lines = append(lines, s)
	}
	if more := len(vs) - n; more > 0 {
		lines = append(lines, policy.More(more))
	}
	return lines
}

// countOf says "1 violation" or "N violations".
func countOf(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
