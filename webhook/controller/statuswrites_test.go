package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestControllerStatusWritesNeverReachTheServer: the validating entry for daemonsets/status
// (which refuses changes of our labels and annotations there) lets the writes of the real
// DaemonSet controller (status fields, constantly) and the audit's annotation (which the audit
// writes through /status) through without calling the server: both are stored, and the server
// has decided on no daemonsets/status review in this package's whole run until a status write
// that changes our label, which it refuses.
func TestControllerStatusWritesNeverReachTheServer(t *testing.T) {
	needControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), rolloutTimeout)
	defer cancel()
	ns := newNamespace(t, ctx, "statuswrites", true)
	createProxyConfig(t, ctx, ns, "metrics-proxy", "")
	createStub(t, ctx, ns, "proxy", nil)
	require.Eventually(t, func() bool {
		ds := getDaemonSet(t, ctx, ns, "proxy")
		return ds.Status.ObservedGeneration == ds.Generation && ds.Status.DesiredNumberScheduled == int32(len(testNodes))
	}, 30*time.Second, 100*time.Millisecond, "the DaemonSet controller never wrote the proxy's status")

	strict := policy.Default()
	kubeProxy, _ := components.Lookup("kube-proxy")
	strict.Components = []components.Component{kubeProxy}
	policies.set(strict)
	defer policies.set(policy.Default())
	require.Eventually(t, func() bool {
		return strings.Contains(getDaemonSet(t, ctx, ns, "proxy").Annotations[names.AuditAnnotation], "PolicyViolation")
	}, 20*time.Second, 100*time.Millisecond, "the running audit did not write its annotation")

	assert.Zero(t, statusDecisions(t), "a controller's status write reached the server")

	ds := getDaemonSet(t, ctx, ns, "proxy")
	err := cp.Client.Status().Patch(ctx, ds, client.RawPatch(types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"`+names.InjectLabel+`":"false"}}}`)))
	require.Error(t, err, "a label of ours changed through /status")
	assert.ErrorContains(t, err, string(policy.RuleStatusMetadata))
	// At least one: the API server runs admission again when the patch conflicted with the
	// DaemonSet controller's own status write in between, and each run is refused.
	assert.GreaterOrEqual(t, statusDecisions(t), 1.0, "the counter counts what reaches the server")
}

// statusDecisions sums the server's decisions on daemonsets/status from the metrics registry.
func statusDecisions(t *testing.T) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	var sum float64
	for _, f := range families {
		if f.GetName() != "metrics_proxy_admission_decisions_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, p := range m.GetLabel() {
				if p.GetName() == "resource" && p.GetValue() == "daemonsets/status" {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}
