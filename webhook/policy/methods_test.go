package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestMethodCheckBudget: deny rules crafted to make the method check quadratic (a 1 MiB frontend
// naming tens of thousands of methods in rules that never fire) are refused quickly.
func TestMethodCheckBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString(head + "frontend kube-proxy\n" + bind + deny + route)
	for i := 0; b.Len() < 1<<20; i++ {
		b.WriteString("  http-request deny if METH_TRACE { method")
		for j := range 55 {
			fmt.Fprintf(&b, " M%d_%d", i, j)
		}
		b.WriteString(" }\n")
	}
	b.WriteString("backend kube-proxy\n" + server)
	vs := policy.ValidateConfig([]byte(b.String()), &policy.Policy{AllowedMethods: []string{"GET"}})
	require.Len(t, vs, 1, render(vs))
	assert.Equal(t, policy.RuleMethodDeny, vs[0].Rule)
	assert.Contains(t, vs[0].Message, "too complex") // the work budget, not a clock, bounds the check
}

// TestMethodCheckDistinctMethods: a method the conditions name is checked on its own.
func TestMethodCheckDistinctMethods(t *testing.T) {
	cfg := withFE("  http-request deny unless { method GET PURGE }\n  http-request deny if { method PURGE } { path /other }\n")
	vs := policy.ValidateConfig([]byte(cfg), &policy.Policy{AllowedMethods: []string{"GET"}})
	require.Len(t, vs, 1, render(vs))
	assert.Equal(t, policy.RuleMethodDeny, vs[0].Rule)
	assert.Contains(t, vs[0].Message, "lets PURGE through")
	assert.Empty(t, policy.ValidateConfig([]byte(cfg), &policy.Policy{AllowedMethods: []string{"GET", "PURGE"}}))
}
