package policy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// acceptCase is a config the policy must accept.
type acceptCase struct {
	name   string
	cfg    string
	policy *policy.Policy
	// noListener: haproxy -c finds no error but exits 2, as there is nothing to listen on.
	noListener bool
}

// acceptCases are compliant variants; haproxy_test.go also runs each through haproxy -c.
func acceptCases(t testing.TB) []acceptCase {
	kubeProxy, _ := components.Lookup("kube-proxy")
	return []acceptCase{
		{name: "seed", cfg: string(readSeed(t))},
		{name: "kube-proxy only", cfg: std()},
		{name: "deny unless", cfg: kp(bind+"  http-request deny unless { path /metrics }\n"+route, server)},
		{name: "-m str", cfg: kp(bind+"  http-request deny if !{ path -m str /metrics }\n"+route, server)},
		{name: "unless -m str", cfg: kp(bind+"  http-request deny unless { path -m str /metrics }\n"+route, server)},
		{name: "negation as its own word", cfg: kp(bind+"  http-request deny if ! { path /metrics }\n"+route, server)},
		{name: "named acl if !", cfg: kp(bind+"  acl is_metrics path /metrics\n  http-request deny if !is_metrics\n"+route, server)},
		{name: "named acl unless", cfg: kp(bind+"  acl is_metrics path /metrics\n  http-request deny unless is_metrics\n"+route, server)},
		{name: "named acl -m str", cfg: kp(bind+"  acl is_metrics path -m str /metrics\n  http-request deny unless is_metrics\n"+route, server)},
		{name: "quoted bind", cfg: kp("  bind \"${NODE_IP}:10249\"\n"+deny+route, server)},
		{name: "quoted variable in bind", cfg: kp("  bind \"${NODE_IP}\":10249\n"+deny+route, server)},
		{name: "quoted path", cfg: kp(bind+"  http-request deny if !{ path \"/metrics\" }\n"+route, server)},
		{name: "deny if !METH_GET after", cfg: withFE("  http-request deny if !METH_GET\n")},
		{name: "absolute-form deny after", cfg: withFE(absoluteFormDeny)},
		{name: "absolute-form deny with allowed methods", cfg: withFE(absoluteFormDeny + "  http-request deny unless METH_GET\n"), policy: &policy.Policy{AllowedMethods: []string{"GET", "HEAD"}}},
		{name: "deny unless METH_GET after", cfg: withFE("  http-request deny unless METH_GET\n")},
		{name: "method deny with status", cfg: withFE("  http-request deny deny_status 405 unless METH_GET or METH_OPTIONS\n")},
		{name: "method acl", cfg: withFE("  acl read method GET HEAD\n  http-request deny unless read\n")},
		{name: "anded method tests", cfg: withFE("  http-request deny if !METH_GET !{ method OPTIONS }\n")},
		{name: "more path denies after", cfg: withFE("  http-request deny if { path /metrics } METH_POST || { method PUT }\n")},
		{name: "deny_status 403 first", cfg: kp(bind+"  http-request deny deny_status 403 if !{ path /metrics }\n"+route, server)},
		{name: "use_backend", cfg: kp(bind+deny+"  use_backend kube-proxy\n", server)},
		{name: "servers on loopback names", cfg: kp(bind+deny+route, server+"  server b 127.0.0.1:10249\n  server c localhost:10249\n  server d [::1]:10249\n  server e ::1:10249\n")},
		{name: "server options", cfg: kp(bind+deny+route, "  server kube-proxy 127.0.0.1:10249 check inter 2s fastinter 1s downinter 5s rise 2 fall 3 weight 10 maxconn 5 maxqueue 10\n")},
		{name: "tls server", cfg: head + "frontend kcm\n  bind ${NODE_IP}:10257\n" + deny + "  default_backend kcm\nbackend kcm\n  server kcm 127.0.0.1:10257 ssl verify none check\n"},
		{name: "backend deny", cfg: withBE("  acl m path /metrics\n  http-request deny unless m\n  http-request deny if METH_POST\n")},
		{name: "logging and timeouts", cfg: "global\n  log stdout format raw local0\n  maxconn 4096\n  nbthread 2\n  log-tag haproxy\n  hard-stop-after 30s\n" +
			"defaults\n  mode http\n  log global\n  option httplog\n  option dontlognull\n  option forwardfor\n  option http-server-close\n" +
			"  option http-ignore-probes\n  no option http-keep-alive\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n" +
			"  timeout http-request 10s\n  timeout http-keep-alive 2s\n  timeout queue 5s\n  timeout check 2s\n  retries 3\n  maxconn 100\n" +
			"  balance roundrobin\n  http-reuse safe\n  default-server inter 2s fall 3 rise 2 maxconn 10\n  option redispatch\n" +
			"frontend kube-proxy\n  bind ${NODE_IP}:10249\n  log global\n  option httplog clf\n  maxconn 50\n  timeout client 10s\n" +
			deny + route +
			"backend kube-proxy\n  balance leastconn\n  retries 2\n  fullconn 20\n  option abortonclose\n  timeout server 10s\n" + server},
		{name: "named defaults with from", cfg: "defaults base\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n" +
			"defaults other from base\n  timeout client 6s\n" +
			"frontend kube-proxy from other\n" + bind + deny + route + "backend kube-proxy from other\n" + server},
		{name: "last defaults named", cfg: "defaults base\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n" +
			"frontend kube-proxy\n" + bind + deny + route + "backend kube-proxy\n" + server},
		{name: "mode in each proxy", cfg: "frontend kube-proxy\n  mode http\n  timeout client 5s\n" + bind + deny + route +
			"backend kube-proxy\n  mode http\n  timeout connect 5s\n  timeout server 5s\n" + server},
		{name: "comments blank lines and CRLF", cfg: strings.ReplaceAll("# metrics only\n\n"+std()+"\n# end\n", "\n", "\r\n")},
		{name: "unreferenced valid backend", cfg: std() + "backend spare\n  server s 127.0.0.1:10249\n"},
		{name: "no frontend at all", cfg: head, noListener: true},
		{name: "allowed methods GET HEAD", cfg: withFE("  http-request deny unless METH_GET\n"), policy: &policy.Policy{AllowedMethods: []string{"GET", "HEAD"}}},
		{name: "allowed methods GET", cfg: withFE("  http-request deny if !{ method GET }\n"), policy: &policy.Policy{AllowedMethods: []string{"GET"}}},
		{name: "allowed methods with named acls", cfg: kp(bind+"  acl ok path /metrics\n  acl get method GET\n  http-request deny unless ok\n  http-request deny unless get\n"+route, server),
			policy: &policy.Policy{AllowedMethods: []string{"GET", "POST"}}},
		{name: "allowed methods by a path-and-method rule", cfg: withFE("  http-request deny if { path /metrics } !METH_GET\n"), policy: &policy.Policy{AllowedMethods: []string{"GET", "HEAD"}}},
		{name: "several allowed paths", cfg: kp(bind+"  http-request deny if !{ path /metrics /metrics/cadvisor }\n"+route, server),
			policy: &policy.Policy{AllowedPaths: []string{"/metrics", "/metrics/cadvisor"}}},
		{name: "subset of allowed paths", cfg: std(), policy: &policy.Policy{AllowedPaths: []string{"/metrics", "/metrics/cadvisor"}}},
		{name: "component subset policy", cfg: std(), policy: &policy.Policy{Components: []components.Component{kubeProxy}}},
		{name: "generated for all", cfg: inject.HAProxyConfig(components.All())},
	}
}

func TestValidateConfigAccepts(t *testing.T) {
	for _, tc := range acceptCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			vs := policy.ValidateConfig([]byte(tc.cfg), tc.policy)
			assert.Empty(t, vs, "violations:\n%s\nconfig:\n%s", render(vs), tc.cfg)
		})
	}
}

// TestValidateGeneratedSubsets accepts the generated config for every subset of components,
// under the default policy and under a policy that allows only that subset.
func TestValidateGeneratedSubsets(t *testing.T) {
	all := components.All()
	for _, cs := range testtool.ComponentSubsets() {
		cfg := []byte(inject.HAProxyConfig(cs))
		name := components.Join(cs)
		assert.Empty(t, policy.ValidateConfig(cfg, nil), name)
		assert.Empty(t, policy.ValidateConfig(cfg, &policy.Policy{Components: cs}), name)
		if len(cs) < len(all) {
			// The full config exposes components this policy does not allow.
			vs := policy.ValidateConfig([]byte(inject.HAProxyConfig(all)), &policy.Policy{Components: cs})
			assert.Len(t, vs, 2*(len(all)-len(cs)), "a bind and a server per component not allowed, %s:\n%s", name, render(vs))
			for _, v := range vs {
				assert.Equal(t, policy.RuleComponentPort, v.Rule, v.String())
			}
		}
	}
}

func TestValidateSeedDefaultPolicy(t *testing.T) {
	assert.Nil(t, policy.ValidateConfig(readSeed(t), policy.Default()))
	assert.Nil(t, policy.ValidateConfig(readSeed(t), nil))
	assert.Nil(t, policy.ValidateConfig(readSeed(t), &policy.Policy{}))
}
