package certs

import (
	"crypto/tls"
	"crypto/x509"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// servingExpiry is the expiry of the certificate the server serves, as a Unix time.
var servingExpiry = prometheus.NewGauge(prometheus.GaugeOpts{
	Name: "metrics_proxy_serving_certificate_expiry_timestamp_seconds",
	Help: "When the webhook server's serving certificate expires, in seconds since the Unix epoch.",
})

func init() {
	metrics.Registry.MustRegister(servingExpiry)
}

// recordExpiry sets the expiry gauge from a loaded certificate.
func recordExpiry(cert tls.Certificate) {
	leaf := cert.Leaf
	if leaf == nil && len(cert.Certificate) > 0 {
		leaf, _ = x509.ParseCertificate(cert.Certificate[0])
	}
	if leaf != nil {
		servingExpiry.Set(float64(leaf.NotAfter.Unix()))
	}
}
