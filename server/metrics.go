package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// policyReloads counts re-reads of a changed policy file by result (loaded, invalid).
var policyReloads = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "metrics_proxy_policy_reloads_total",
	Help: "Reloads of a changed policy file, by result: loaded, or invalid (the previous policy stays).",
}, []string{"result"})

func init() {
	metrics.Registry.MustRegister(policyReloads)
}
