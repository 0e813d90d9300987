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
	// liveLists counts the ConfigMap validator's lists of a namespace's DaemonSets from the API
	// server (LiveDaemonSets) by result: ok, error.
	liveLists = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "metrics_proxy_live_daemonset_lists_total",
		Help: "Lists of a namespace's DaemonSets read from the API server when the cache found no proxy mounting an unlabelled ConfigMap, by result (ok, error); reviews that wait together share one.",
	}, []string{"result"})
	// configHashReads counts where the mutating handler read the hash of a DaemonSet's
	// ConfigMap: cache (the config-hash cache) or live (the API server).
	configHashReads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "metrics_proxy_config_hash_reads_total",
		Help: "Reads of the mounted ConfigMap's config hash by the mutating webhook, by source: cache (the labelled proxy ConfigMaps' hashes) or live (the API server: not cached, or the DaemonSet carries another hash).",
	}, []string{"source"})
	// configVerdictReads counts how the validating handler of DaemonSets judged the mounted
	// ConfigMap: cache (a version it found compliant before, see VerdictCache) or live.
	configVerdictReads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "metrics_proxy_config_verdict_reads_total",
		Help: "Judgements of the mounted ConfigMap by the validating webhook of DaemonSets, by source: cache (the version it found compliant before under the same policy) or live (read from the API server and validated).",
	}, []string{"source"})
)

func init() {
	metrics.Registry.MustRegister(admissionDecisions, policyViolations, liveLists, configHashReads, configVerdictReads)
}
