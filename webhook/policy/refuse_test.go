package policy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/metrics-proxy/injector/e2e/dataplane"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// refusedCases are configs the validator once accepted and HAProxy 2.6 refuses to start with:
// each must break its rule on its marked line, and haproxy -c must refuse it
// (TestRefusedByHAProxy), so that the rule stays no stricter than needed.
var refusedCases = []rejectCase{
	{name: "no option httplog", cfg: withFE("  no option httplog #<\n"), rule: policy.RuleKeywordArgs},
	{name: "no option forwardfor", cfg: withFE("  no option forwardfor #<\n"), rule: policy.RuleKeywordArgs},
	{name: "no option tcpka", cfg: withBE("  no option tcpka #<\n"), rule: policy.RuleKeywordArgs},
	{name: "no option httplog clf", cfg: withFE("  no option httplog clf #<\n"), rule: policy.RuleKeywordArgs},
	{name: "default option dontlognull", cfg: withFE("  default option dontlognull #<\n"), rule: policy.RuleUnknownKeyword},
	{name: "default option http-keep-alive", cfg: withBE("  default option http-keep-alive #<\n"), rule: policy.RuleUnknownKeyword},
	{name: "deny_status 402", cfg: firstRule("  http-request deny deny_status 402 if !{ path /metrics } #<\n"), rule: policy.RuleDenyOption},
	{name: "deny_status 418", cfg: firstRule("  http-request deny deny_status 418 if !{ path /metrics } #<\n"), rule: policy.RuleDenyOption},
	{name: "deny_status 499", cfg: withFE("  http-request deny deny_status 499 if METH_POST #<\n"), rule: policy.RuleDenyOption},
	{name: "frontend name with a slash", cfg: strings.Replace(std(), "frontend kube-proxy", "frontend kube/proxy #<", 1), rule: policy.RuleName},
	{name: "frontend name with a blank", cfg: strings.Replace(std(), "frontend kube-proxy", "frontend \"kube proxy\" #<", 1), rule: policy.RuleName},
	{name: "backend name with a byte above 0x7f", cfg: std() + "backend spare-\xc3\xb6 #<\n  server s 127.0.0.1:10249\n", rule: policy.RuleName},
	{name: "frontend from a defaults name with an at sign", cfg: strings.Replace(std(), "frontend kube-proxy", "frontend kube-proxy from a@b #<", 1), rule: policy.RuleName},
	{name: "server name with a plus", cfg: serverLine("  server kube+proxy 127.0.0.1:10249 #<\n"), rule: policy.RuleName},
	{name: "nbthread 0", cfg: "global\n  nbthread 0 #<\n" + std(), rule: policy.RuleKeywordArgs},
	{name: "nbthread 65", cfg: "global\n  nbthread 65 #<\n" + std(), rule: policy.RuleKeywordArgs},
	{name: "spread-checks 51", cfg: "global\n  spread-checks 51 #<\n" + std(), rule: policy.RuleKeywordArgs},
	{name: "hard-stop-after overflow", cfg: "global\n  hard-stop-after 99999999999 #<\n" + std(), rule: policy.RuleKeywordArgs},
	{name: "log without facility", cfg: "global\n  log stdout format raw #<\n" + std(), rule: policy.RuleKeywordArgs},
	{name: "log len 0", cfg: "global\n  log stdout len 0 local0 #<\n" + std(), rule: policy.RuleKeywordArgs},
	{name: "log unknown format", cfg: "global\n  log stdout format json local0 #<\n" + std(), rule: policy.RuleKeywordArgs},
	{name: "log unknown level", cfg: withFE("  log stdout local0 loud #<\n"), rule: policy.RuleKeywordArgs},
	{name: "timeout past 24.8 days", cfg: withFE("  timeout client 25d #<\n"), rule: policy.RuleKeywordArgs},
	{name: "timeout 2^31 ms", cfg: withBE("  timeout server 2147483648 #<\n"), rule: policy.RuleKeywordArgs},
	{name: "server weight 257", cfg: serverLine("  server s 127.0.0.1:10249 weight 257 #<\n"), rule: policy.RuleKeywordArgs},
	{name: "server rise 0", cfg: serverLine("  server s 127.0.0.1:10249 rise 0 #<\n"), rule: policy.RuleKeywordArgs},
	{name: "server fall 0", cfg: serverLine("  server s 127.0.0.1:10249 check fall 0 #<\n"), rule: policy.RuleKeywordArgs},
	{name: "server inter 0", cfg: serverLine("  server s 127.0.0.1:10249 check inter 0 #<\n"), rule: policy.RuleKeywordArgs},
	{name: "server inter past 24.8 days", cfg: serverLine("  server s 127.0.0.1:10249 check inter 25d #<\n"), rule: policy.RuleKeywordArgs},
	{name: "default-server weight 300", cfg: withBE("  default-server weight 300 #<\n"), rule: policy.RuleKeywordArgs},
	{name: "ssl without verify none", cfg: serverLine("  server s 127.0.0.1:10249 ssl check #<\n"), rule: policy.RuleServerOption},
}

// refusedSince30 are configs HAProxy 2.6 starts with and 3.0 refuses: refused too, since the
// default image is 3.0 (TestRefusedByHAProxy checks them on 3.0 and later).
var refusedSince30 = []rejectCase{
	{name: "nbthread after a defaults section", cfg: std() + "global\n  nbthread 2 #<\n", rule: policy.RuleKeywordArgs},
	{name: "nbthread in a second global section", cfg: "global\n  maxconn 100\n" + std() + "global\n  nbthread 4 #<\n", rule: policy.RuleKeywordArgs},
}

func TestValidateConfigRefuses(t *testing.T) {
	for _, tc := range append(refusedCases, refusedSince30...) {
		t.Run(string(tc.rule)+"/"+tc.name, func(t *testing.T) {
			checkReject(t, tc)
		})
	}
}

// TestRefusedByHAProxy: HAProxy 2.6 and 3.0 refuse every refused case, so each rule above stops an
// outage, not a working config.
func TestRefusedByHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	for _, hp := range testtool.HAProxies(t) {
		cases := refusedCases
		if hp.Branch != "2.6" {
			cases = append(cases, refusedSince30...)
		}
		for _, tc := range cases {
			t.Run(hp.Branch+"/"+tc.name, func(t *testing.T) {
				out, ok := dataplane.Check(t, strings.ReplaceAll(tc.cfg, " "+marker, ""), dataplane.Options{Binary: hp.Path})
				assert.False(t, ok, "haproxy %s -c accepts it:\n%s\n%s", hp.Version, out, tc.cfg)
			})
		}
	}
}
