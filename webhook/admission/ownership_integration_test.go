package admission_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/metrics-proxy/injector/webhook/names"
)

// TestFirstDayWarnings: through the real API server and kubectl, what a first install meets is
// said, never done silently: a workload DaemonSet in an enabled namespace (node-exporter) is named
// as not a proxy; a user's image on the haproxy container is kept through the annotation and
// their readiness probe stays.
func TestFirstDayWarnings(t *testing.T) {
	enabled := map[string]string{names.NamespaceInjectionLabel: "enabled"}
	t.Run("a non-proxy DaemonSet in an enabled namespace is named in a warning", func(t *testing.T) {
		ns := newProxyNamespace(t, enabled)
		in := `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-exporter, namespace: ` + ns + `}
spec:
  selector: {matchLabels: {app: node-exporter}}
  template:
    metadata: {labels: {app: node-exporter}}
    spec:
      containers: [{name: node-exporter, image: quay.io/prometheus/node-exporter:v1.8.0}]
`
		stderr := kubectlFails(t, in, "apply", "-f", "-")
		assert.Contains(t, stderr, "Warning: DaemonSet "+ns+"/node-exporter (containers: node-exporter) is not a metrics proxy")
		assert.Contains(t, stderr, "metrics-proxy.io/inject=false")
		assert.Contains(t, stderr, "other-container", "and the validator denies it")
	})
	t.Run("a user's image and readiness probe on haproxy are kept, with a warning", func(t *testing.T) {
		ns := newProxyNamespace(t, enabled)
		in := `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: proxy, namespace: ` + ns + `}
spec:
  template:
    spec:
      containers:
      - name: haproxy
        image: haproxy:3.0.9
        readinessProbe: {tcpSocket: {port: 10249}, periodSeconds: 7}
`
		_, stderr := kubectl(t, in, "apply", "-f", "-")
		assert.Contains(t, stderr, "image haproxy:3.0.9 kept, moved to the annotation metrics-proxy.io/image")
		assert.NotContains(t, stderr, "is not a metrics proxy")
		ds := getDaemonSet(t, ns, "proxy")
		assertInjected(t, ds)
		assert.Equal(t, "haproxy:3.0.9", ds.Annotations[names.ImageAnnotation])
		c := ds.Spec.Template.Spec.Containers[0]
		assert.Equal(t, "haproxy:3.0.9", c.Image)
		if assert.NotNil(t, c.ReadinessProbe) {
			assert.Equal(t, int32(7), c.ReadinessProbe.PeriodSeconds)
		}
		_, stderr = kubectl(t, in, "apply", "-f", "-")
		assert.NotContains(t, stderr, "Warning", "applying the same manifest again warns of nothing")
	})
}
