package admission

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Our metrics, served on /metrics next to controller-runtime's.
var (
	// admissionDecisions counts the decisions of every handler by webhook, resource and outcome.
	admissionDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "metrics_proxy_admission_decisions_total",
		Help: "Decisions of the webhooks, by webhook (mutate, validate), resource and outcome.",
	}, []string{"webhook", "resource", "outcome"})
	// policyViolations counts policy violations by rule and the action taken (deny, warn).
	policyViolations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "metrics_proxy_policy_violations_total",
		Help: "Policy violations found by the validating webhooks, by rule and action (deny or warn).",
	}, []string{"rule", "action"})
)

func init() {
	metrics.Registry.MustRegister(admissionDecisions, policyViolations)
}
