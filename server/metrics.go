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

// rejectedReviews counts reviews the webhook server refused before reading them, by reason.
var rejectedReviews = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "metrics_proxy_webhook_rejected_total",
	Help: "Admission reviews refused before they were handled, by reason (in-flight: too many at once; slow-body: the body did not arrive within the body timeout; connections: too many connections open, in all or from one peer).",
}, []string{"reason"})

// clientCAReloads counts re-reads of a changed client CA file by result (loaded, invalid).
var clientCAReloads = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "metrics_proxy_client_ca_reloads_total",
	Help: "Reloads of a changed client CA file (--client-ca-file), by result: loaded, or invalid (the previous CAs stay).",
}, []string{"result"})

// openConnections is how many connections the webhook server holds open.
var openConnections = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "metrics_proxy_webhook_connections",
	Help: "Connections the webhook server holds open (capped by --max-connections and --max-connections-per-peer).",
})

func init() {
	metrics.Registry.MustRegister(policyReloads, rejectedReviews, openConnections, clientCAReloads)
}
