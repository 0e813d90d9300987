package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// findings is the latest audit's count of findings by kind and reason (both closed sets).
	findings = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "metrics_proxy_audit_findings",
		Help: "Findings of the latest audit, by object kind (DaemonSet, ConfigMap) and reason.",
	}, []string{"kind", "reason"})
	// writes counts the controller's writes to the API server, by controller.
	writes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "metrics_proxy_controller_writes_total",
		Help: "Writes of the day-two controllers to the API server, by controller (rollout, audit, reinject).",
	}, []string{"controller"})
)

func init() {
	metrics.Registry.MustRegister(findings, writes)
}
