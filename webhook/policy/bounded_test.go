package policy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestBoundedValidation: the N variants keep the first violations of the unbounded ones, the
// DaemonSet's before its config's, and count the others; First and More cut and end a list.
func TestBoundedValidation(t *testing.T) {
	hostile := "frontend f\n" + strings.Repeat("  x\n", 1000)
	cm := configMap(map[string]string{names.ConfigKey: hostile})

	all := policy.ValidateConfigMap(cm, nil)
	first, more := policy.ValidateConfigMapN(cm, nil, policy.DefaultMaxViolations)
	assert.Equal(t, all[:policy.DefaultMaxViolations], first)
	assert.Equal(t, len(all)-policy.DefaultMaxViolations, more)
	first, more = policy.ValidateConfigMapN(cm, nil, 0)
	assert.Equal(t, all, first)
	assert.Zero(t, more)

	ds := proxyDaemonSet(t)
	ds.Spec.Template.Spec.HostNetwork = false // one violation of the DaemonSet itself
	get := func(string, string) (*corev1.ConfigMap, error) { return cm, nil }
	every, err := policy.ValidateProxy(ds, nil, get)
	require.NoError(t, err)
	require.Len(t, every, len(all)+1)
	vs, more, err := policy.ValidateProxyN(ds, nil, get, 5)
	require.NoError(t, err)
	assert.Equal(t, every[:5], vs)
	assert.Equal(t, policy.RuleHostNetwork, vs[0].Rule, "the DaemonSet's violations come first")
	assert.Equal(t, len(every)-5, more)

	cut, rest := policy.First(every, 3)
	assert.Equal(t, every[:3], cut)
	assert.Equal(t, len(every)-3, rest)
	cut, rest = policy.First(every, 0)
	assert.Len(t, cut, len(every))
	assert.Zero(t, rest)
	assert.Equal(t, "... and 1 more violation", policy.More(1))
	assert.Equal(t, "... and 1002 more violations", policy.More(1002))
	assert.Empty(t, policy.More(0))
}
