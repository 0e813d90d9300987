package policy_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/policy"
)

func TestViolationString(t *testing.T) {
	v := policy.Violation{Source: "haproxy.cfg", Line: 12, Rule: policy.RuleBind, Message: "bind *:10249 listens on every address"}
	assert.Equal(t, "haproxy.cfg:12: bind: bind *:10249 listens on every address", v.String())
	v = policy.Violation{Source: "spec.template.spec.hostNetwork", Rule: policy.RuleHostNetwork, Message: "want true"}
	assert.Equal(t, "spec.template.spec.hostNetwork: host-network: want true", v.String())
}

// TestAllViolationsAtOnce: one config breaking many rules reports each, sorted by line.
func TestAllViolationsAtOnce(t *testing.T) {
	cfg := `maxconn 10
global
  stats socket /tmp/s level admin
  setenv NODE_IP 0.0.0.0
defaults
  mode tcp
frontend kube-proxy
  bind *:10249
  http-request allow
  http-request deny if !{ path_beg /metrics }
  http-request set-path /configz
  default_backend kube-proxy
backend kube-proxy
  server s 10.0.0.1:10249 sni str(x)
listen l
  bind :10250
`
	type hit struct {
		Line int
		Rule policy.RuleID
	}
	var got []hit
	vs := policy.ValidateConfig([]byte(cfg), nil)
	for _, v := range vs {
		got = append(got, hit{v.Line, v.Rule})
	}
	assert.Equal(t, []hit{
		{1, policy.RuleOutsideSection},
		{3, policy.RuleStats},
		{4, policy.RuleSetenv},
		{6, policy.RuleModeHTTP},
		{8, policy.RuleBind},
		{9, policy.RuleHTTPRequestAction},
		{10, policy.RuleCondition},
		{11, policy.RuleRewrite},
		{14, policy.RuleServerAddress},
		{14, policy.RuleServerOption},
		{15, policy.RuleListenSection},
	}, got, render(vs))
}

// TestRulesDocumented: Rules lists every id once, each id is kebab-case, and
// docs/policy-rules.md and docs/policy.md have a line for each (docs/policy.md's is the summary;
// the README links both).
func TestRulesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/policy-rules.md")
	require.NoError(t, err)
	summary, err := os.ReadFile("../../docs/policy.md")
	require.NoError(t, err)
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "(docs/policy-rules.md)", "the README links the rules")
	assert.Contains(t, string(readme), "(docs/policy.md)", "the README links the policy reference")
	seen := map[policy.RuleID]bool{}
	for _, r := range policy.Rules() {
		assert.False(t, seen[r.ID], "%s listed twice", r.ID)
		seen[r.ID] = true
		assert.Regexp(t, `^[a-z]+(-[a-z]+)*$`, string(r.ID))
		assert.NotEmpty(t, r.Summary)
		assert.Regexp(t, regexp.MustCompile("(?m)^\\| `"+regexp.QuoteMeta(string(r.ID))+"` \\|"), string(doc), "docs/policy-rules.md documents %s", r.ID)
		assert.Contains(t, string(summary), "- `"+string(r.ID)+"`: "+r.Summary+"\n", "docs/policy.md lists %s with its summary", r.ID)
	}
	// Every rule id constant in the source is listed by Rules.
	src, err := os.ReadFile("rules.go")
	require.NoError(t, err)
	for _, m := range regexp.MustCompile(`RuleID = "([a-z-]+)"`).FindAllStringSubmatch(string(src), -1) {
		assert.True(t, seen[policy.RuleID(m[1])], "Rules() lists %s", m[1])
	}
	assert.Equal(t, len(seen), strings.Count(string(src), "RuleID = \""))
}
