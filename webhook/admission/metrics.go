package admission

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Our metrics, served on /metrics next to controller-runtime's.
var (
	// injectionDecisions counts injection decisions by resource and outcome.
	injectionDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "metrics_proxy_injection_decisions_total",
		Help: "Injection decisions of the mutating webhooks, by resource and outcome.",
	}, []string{"resource", "outcome"})
	// policyViolations counts policy violations by rule and the action taken (deny, warn).
	policyViolations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "metrics_proxy_policy_violations_total",
		Help: "Policy violations found by the validating webhooks, by rule and action (deny or warn).",
	}, []string{"rule", "action"})
)

func init() {
	metrics.Registry.MustRegister(injectionDecisions, policyViolations)
}
