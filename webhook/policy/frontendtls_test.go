package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestBindTLSOptions: the only bind options accepted are exactly the generator's
// `ssl crt /run/metrics-proxy/tls/frontend.pem`; the policy's frontendTLS decides whether a
// component's frontend may, must or must not have them.
func TestBindTLSOptions(t *testing.T) {
	tlsBind := "  bind ${NODE_IP}:10249 ssl crt /run/metrics-proxy/tls/frontend.pem\n"
	withBind := func(b string) string { return kp(b+deny+route, server) }
	req := func(r policy.TLSRequirement) *policy.Policy {
		return &policy.Policy{FrontendTLS: map[string]policy.TLSRequirement{"kube-proxy": r}}
	}
	tests := []struct {
		name   string
		cfg    string
		policy *policy.Policy
		want   []policy.RuleID
	}{
		{name: "tls as generated", cfg: withBind(tlsBind)},
		{name: "plain, allowed by default", cfg: std()},
		{name: "tls, required", cfg: withBind(tlsBind), policy: req(policy.TLSRequired)},
		{name: "plain, required", cfg: std(), policy: req(policy.TLSRequired), want: []policy.RuleID{policy.RuleFrontendTLS}},
		{name: "tls, forbidden", cfg: withBind(tlsBind), policy: req(policy.TLSForbidden), want: []policy.RuleID{policy.RuleFrontendTLS}},
		{name: "plain, forbidden", cfg: std(), policy: req(policy.TLSForbidden)},
		{name: "requirement of another component", cfg: std(), policy: &policy.Policy{FrontendTLS: map[string]policy.TLSRequirement{"etcd": policy.TLSRequired}}},
		{name: "another certificate path", cfg: withBind("  bind ${NODE_IP}:10249 ssl crt /tmp/mine.pem\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "a certificate directory", cfg: withBind("  bind ${NODE_IP}:10249 ssl crt /run/metrics-proxy/tls/\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "ssl alone", cfg: withBind("  bind ${NODE_IP}:10249 ssl\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "client verification added", cfg: withBind("  bind ${NODE_IP}:10249 ssl crt /run/metrics-proxy/tls/frontend.pem verify optional\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "options reordered", cfg: withBind("  bind ${NODE_IP}:10249 crt /run/metrics-proxy/tls/frontend.pem ssl\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "accept-proxy", cfg: withBind("  bind ${NODE_IP}:10249 accept-proxy\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "tls still needs the path deny", cfg: kp(tlsBind+route, server), want: []policy.RuleID{policy.RulePathDeny}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := policy.ValidateConfig([]byte(tt.cfg), tt.policy)
			var got []policy.RuleID
			for _, v := range vs {
				got = append(got, v.Rule)
			}
			assert.Equal(t, tt.want, got, render(vs))
		})
	}
}

// TestGeneratedTLSSubsets: the generated config with any set of TLS frontends complies, under
// the default policy and under one that requires TLS exactly where the config has it.
func TestGeneratedTLSSubsets(t *testing.T) {
	all := components.All()
	for _, tls := range append(testtool.ComponentSubsets(), nil) {
		cfg := []byte(inject.HAProxyConfigTLS(all, tls))
		assert.Empty(t, policy.ValidateConfig(cfg, nil), components.Join(tls))
		p := &policy.Policy{FrontendTLS: map[string]policy.TLSRequirement{}}
		for _, c := range all {
			p.FrontendTLS[c.Name] = policy.TLSForbidden
		}
		for _, c := range tls {
			p.FrontendTLS[c.Name] = policy.TLSRequired
		}
		assert.Empty(t, policy.ValidateConfig(cfg, p), components.Join(tls))
	}
}

func TestParseFrontendTLS(t *testing.T) {
	head := "apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\n"
	p, err := policy.Parse([]byte(head + "frontendTLS: {kube-controller-manager: required, etcd: forbidden, kube-proxy: allowed}\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]policy.TLSRequirement{"kube-controller-manager": policy.TLSRequired,
		"etcd": policy.TLSForbidden, "kube-proxy": policy.TLSAllowed}, p.FrontendTLS)

	_, err = policy.Parse([]byte(head + "frontendTLS: {kubelet: required, etcd: always}\n"))
	require.ErrorIs(t, err, policy.ErrInvalidPolicy)
	assert.ErrorContains(t, err, `frontendTLS: "kubelet": unknown component`)
	assert.ErrorContains(t, err, `frontendTLS.etcd: "always": want allowed, required or forbidden`)
}
