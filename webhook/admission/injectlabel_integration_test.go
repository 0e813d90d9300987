package admission_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestInjectLabelCannotBeRemovedFromAProxy (a red-team finding): outside an enabled namespace the
// webhooks select DaemonSets by metrics-proxy.io/inject=true, while the ConfigMap check and the
// rollout controller count every DaemonSet with the injector's status annotation as a proxy. An
// update that removed only the label was admitted, and every later update (a config volume naming
// an unlabelled leaky ConfigMap, admitted unread since no proxy mounted it yet) reached no
// webhook. The removal is refused now; the opt-out ("false") stays allowed.
func TestInjectLabelCannotBeRemovedFromAProxy(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newProxyNamespace(t, nil)
	kubectl(t, manifestOf(stub, "unlabel", ns, names.InjectLabel+`: "true"`), "apply", "-f", "-")
	ds := getDaemonSet(t, ns, "unlabel")
	require.Contains(t, ds.Annotations, names.StatusAnnotation, "the stub was injected")

	delete(ds.Labels, names.InjectLabel)
	err := cp.Client.Update(ctx, ds)
	require.Error(t, err, "removing the label from an injected proxy")
	assert.ErrorContains(t, err, string(policy.RuleInjectLabel))
	assert.Equal(t, "true", getDaemonSet(t, ns, "unlabel").Labels[names.InjectLabel], "nothing stored")

	ds = getDaemonSet(t, ns, "unlabel")
	ds.Labels[names.InjectLabel] = "false"
	require.NoError(t, cp.Client.Update(ctx, ds), "the opt-out stays allowed")
}
