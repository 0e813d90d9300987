package policy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// rejectCase is a config that breaks the rule on the first line marked "#<"; every violation
// must be on a marked line.
type rejectCase struct {
	name   string
	cfg    string
	rule   policy.RuleID
	policy *policy.Policy
}

var (
	feMarked   = strings.Replace(kp(bind+deny+route, server), "frontend kube-proxy\n", "frontend kube-proxy #<\n", 1)
	bothMarked = strings.Replace(feMarked, "\nbackend kube-proxy\n", "\nbackend kube-proxy #<\n", 1)
)

// firstRule is std with the frontend's first rule replaced.
func firstRule(rule string) string { return kp(bind+rule+route, server) }

// bindLine is std with the bind replaced.
func bindLine(b string) string { return kp(b+deny+route, server) }

// serverLine is std with the server replaced.
func serverLine(s string) string { return kp(bind+deny+route, s) }

func onlyComponent(name string) *policy.Policy {
	c, _ := components.Lookup(name)
	return &policy.Policy{Components: []components.Component{c}}
}

var rejectCases = []rejectCase{
	// syntax
	{name: "unterminated quote", cfg: withFE("  timeout client \"5s #<\n"), rule: policy.RuleSyntax},
	{name: "log-format", cfg: withFE("  log-format \"%[req.hdr(authorization)]\" #<\n"), rule: policy.RuleUnknownKeyword},
	{name: "missing final line feed", cfg: kp(bind+deny+route, "  server kube-proxy 127.0.0.1:10249 #<"), rule: policy.RuleSyntax},
	{name: "unknown dot directive", cfg: withFE(".bogus #<\n"), rule: policy.RuleSyntax},
	{name: "frontend without a name", cfg: std() + "frontend #<\n", rule: policy.RuleSyntax},

	// sections
	{name: "directive before any section", cfg: "maxconn 10 #<\n" + std(), rule: policy.RuleOutsideSection},
	{name: "if block", cfg: ".if defined(X) #<\n" + std() + ".endif #<\n", rule: policy.RuleDotDirective},
	{name: "if block in a frontend", cfg: kp(bind+".if streq(\"a\",\"a\") #<\n"+deny+".endif #<\n"+route, server), rule: policy.RuleDotDirective},
	{name: "notice", cfg: withFE(".notice hello #<\n"), rule: policy.RuleDotDirective},
	{name: "scope line", cfg: withFE("[scope] #<\n"), rule: policy.RuleDotDirective},
	{name: "program section", cfg: std() + "program p #<\n  command /bin/sh\n", rule: policy.RuleSectionKind},
	{name: "peers section", cfg: std() + "peers p #<\n  peer a 127.0.0.1:1024\n", rule: policy.RuleSectionKind},
	{name: "resolvers section", cfg: std() + "resolvers dns #<\n", rule: policy.RuleSectionKind},
	{name: "userlist section", cfg: std() + "userlist u #<\n", rule: policy.RuleSectionKind},
	{name: "cache section", cfg: std() + "cache c #<\n", rule: policy.RuleSectionKind},
	{name: "listen section", cfg: std() + "listen l #<\n  bind ${NODE_IP}:10257\n  server s 127.0.0.1:10257\n", rule: policy.RuleListenSection},
	{name: "http-errors section", cfg: std() + "http-errors e #<\n  errorfile 403 /tmp/x\n", rule: policy.RuleErrorPage},
	{name: "duplicate frontend", cfg: std() + "frontend kube-proxy #<\n  bind ${NODE_IP}:10249 #<\n" + deny + route, rule: policy.RuleDuplicateName},
	{name: "duplicate backend", cfg: std() + "backend kube-proxy #<\n" + server, rule: policy.RuleDuplicateName},
	{name: "duplicate named defaults", cfg: "defaults a\n  mode http\ndefaults a #<\n  mode http\n" + strings.TrimPrefix(std(), head), rule: policy.RuleDuplicateName},

	// mode
	{name: "no mode anywhere", cfg: strings.Replace(bothMarked, "  mode http\n", "", 1), rule: policy.RuleModeHTTP},
	{name: "no defaults at all", cfg: strings.TrimPrefix(bothMarked, head), rule: policy.RuleModeHTTP},
	{name: "mode tcp in defaults", cfg: strings.Replace(std(), "  mode http\n", "  mode tcp #<\n", 1), rule: policy.RuleModeHTTP},
	{name: "mode tcp in the frontend", cfg: withFE("  mode tcp #<\n"), rule: policy.RuleModeHTTP},
	{name: "mode health", cfg: withBE("  mode health #<\n"), rule: policy.RuleModeHTTP},
	{name: "last defaults named without mode", cfg: strings.Replace(bothMarked, "frontend", "defaults named\n  timeout client 5s\nfrontend", 1), rule: policy.RuleModeHTTP},
	{name: "from defaults without mode", cfg: "defaults plain\n  timeout client 5s\n" + strings.Replace(strings.Replace(bothMarked, "frontend kube-proxy", "frontend kube-proxy from plain", 1), "\nbackend kube-proxy", "\nbackend kube-proxy from plain", 1), rule: policy.RuleModeHTTP},
	{name: "from a missing defaults", cfg: strings.Replace(std(), "frontend kube-proxy", "frontend kube-proxy from nowhere #<", 1), rule: policy.RuleDefaultsFrom},
	{name: "defaults from a missing defaults", cfg: "defaults a from nowhere #<\n  mode http\n" + strings.TrimPrefix(std(), head), rule: policy.RuleDefaultsFrom},

	// rules in defaults
	{name: "http-request in defaults", cfg: strings.Replace(std(), "  mode http\n", "  mode http\n  http-request allow #<\n", 1), rule: policy.RuleDefaultsRule},
	{name: "http-request in named defaults", cfg: "defaults base\n  mode http\n  http-request allow if { path /configz } #<\n" + strings.TrimPrefix(std(), head), rule: policy.RuleDefaultsRule},
	{name: "acl in defaults", cfg: "defaults base\n  mode http\n  acl x path /x #<\n" + strings.TrimPrefix(std(), head), rule: policy.RuleDefaultsRule},
	{name: "tcp-request in defaults", cfg: "defaults base\n  mode http\n  tcp-request content accept #<\n" + strings.TrimPrefix(std(), head), rule: policy.RuleDefaultsRule},
	{name: "rewrite in defaults", cfg: "defaults base\n  mode http\n  http-request set-path /configz #<\n" + strings.TrimPrefix(std(), head), rule: policy.RuleRewrite},

	// the path deny
	{name: "no http-request rule", cfg: strings.Replace(feMarked, deny, "", 1), rule: policy.RulePathDeny},
	{name: "allow before the deny", cfg: firstRule("  http-request allow if { path /configz } #<\n" + deny), rule: policy.RuleHTTPRequestAction},
	{name: "method deny before the path deny", cfg: firstRule("  http-request deny unless METH_GET #<\n" + deny), rule: policy.RulePathDeny},
	{name: "unconditional deny first", cfg: firstRule("  http-request deny #<\n"), rule: policy.RulePathDeny},
	{name: "request form first", cfg: firstRule("  http-request deny if HTTP_URL_ABS #<\n" + deny), rule: policy.RulePathDeny},
	{name: "wrong polarity", cfg: firstRule("  http-request deny if { path /metrics } #<\n"), rule: policy.RulePathDeny},
	{name: "unless negated", cfg: firstRule("  http-request deny unless !{ path /metrics } #<\n"), rule: policy.RulePathDeny},
	{name: "double negation", cfg: firstRule("  http-request deny if !!{ path /metrics } #<\n"), rule: policy.RulePathDeny},
	{name: "or", cfg: firstRule("  http-request deny if !{ path /metrics } or METH_POST #<\n"), rule: policy.RulePathDeny},
	{name: "OR upper case", cfg: firstRule("  http-request deny if !{ path /metrics } OR METH_POST #<\n"), rule: policy.RulePathDeny},
	{name: "||", cfg: firstRule("  http-request deny if !{ path /metrics } || METH_POST #<\n"), rule: policy.RulePathDeny},
	{name: "anded term", cfg: firstRule("  http-request deny if !{ path /metrics } METH_GET #<\n"), rule: policy.RulePathDeny},
	{name: "anded acl", cfg: firstRule("  acl m path /metrics\n  http-request deny unless m METH_GET #<\n"), rule: policy.RulePathDeny},
	{name: "path not allowed", cfg: firstRule("  http-request deny if !{ path /metrics /configz } #<\n"), rule: policy.RuleAllowedPath},
	{name: "path not allowed by acl", cfg: firstRule("  acl ok path /debug/pprof/\n  http-request deny unless ok #<\n"), rule: policy.RuleAllowedPath},
	{name: "path not allowed by policy", cfg: firstRule("  http-request deny if !{ path /metrics } #<\n"), policy: &policy.Policy{AllowedPaths: []string{"/healthz"}}, rule: policy.RuleAllowedPath},

	// conditions
	{name: "path_beg", cfg: firstRule("  http-request deny if !{ path_beg /metrics } #<\n"), rule: policy.RuleCondition},
	{name: "path_reg", cfg: firstRule("  http-request deny unless { path_reg ^/metrics } #<\n"), rule: policy.RuleCondition},
	{name: "path_end", cfg: firstRule("  http-request deny unless { path_end /metrics } #<\n"), rule: policy.RuleCondition},
	{name: "path_dir", cfg: firstRule("  http-request deny unless { path_dir metrics } #<\n"), rule: policy.RuleCondition},
	{name: "url", cfg: firstRule("  http-request deny unless { url /metrics } #<\n"), rule: policy.RuleCondition},
	{name: "base", cfg: firstRule("  http-request deny unless { base host/metrics } #<\n"), rule: policy.RuleCondition},
	{name: "-i", cfg: firstRule("  http-request deny unless { path -i /metrics } #<\n"), rule: policy.RuleCondition},
	{name: "-m beg", cfg: firstRule("  http-request deny unless { path -m beg /metrics } #<\n"), rule: policy.RuleCondition},
	{name: "-m reg", cfg: firstRule("  http-request deny unless { path -m reg ^/metrics } #<\n"), rule: policy.RuleCondition},
	{name: "-f file", cfg: firstRule("  http-request deny unless { path -f /etc/paths } #<\n"), rule: policy.RuleCondition},
	{name: "--", cfg: firstRule("  http-request deny unless { path -- /metrics } #<\n"), rule: policy.RuleCondition},
	{name: "converter", cfg: firstRule("  http-request deny unless { path,lower /metrics } #<\n"), rule: policy.RuleCondition},
	{name: "url_dec converter", cfg: firstRule("  http-request deny unless { path,url_dec /metrics } #<\n"), rule: policy.RuleCondition},
	{name: "missing brace", cfg: firstRule("  http-request deny unless { path /metrics #<\n"), rule: policy.RuleCondition},
	{name: "glued brace", cfg: firstRule("  http-request deny unless {path /metrics } #<\n"), rule: policy.RuleCondition},
	{name: "empty braces", cfg: firstRule("  http-request deny unless { } #<\n"), rule: policy.RuleCondition},
	{name: "missing condition", cfg: firstRule("  http-request deny if #<\n"), rule: policy.RuleCondition},
	{name: "undefined acl", cfg: firstRule("  http-request deny unless is_metrics #<\n"), rule: policy.RuleCondition},
	{name: "acl used before its definition", cfg: firstRule("  http-request deny unless ok #<\n  acl ok path /metrics\n"), rule: policy.RuleCondition},
	{name: "predefined TRUE", cfg: withFE("  http-request deny unless TRUE #<\n"), rule: policy.RuleCondition},
	{name: "predefined LOCALHOST", cfg: withFE("  http-request deny unless LOCALHOST #<\n"), rule: policy.RuleCondition},
	{name: "src in a later deny", cfg: withFE("  http-request deny if { src 10.0.0.0/8 } #<\n"), rule: policy.RuleCondition},
	{name: "dangling negation", cfg: withFE("  http-request deny if METH_POST ! #<\n"), rule: policy.RuleCondition},
	{name: "trailing or", cfg: withFE("  http-request deny if METH_POST or #<\n"), rule: policy.RuleCondition},
	{name: "empty word", cfg: firstRule("  http-request deny if !{ path /metrics } \"\" #<\n"), rule: policy.RuleKeywordArgs},

	// ACLs
	{name: "acl defined twice", cfg: firstRule("  acl ok path /metrics\n  acl ok path /configz #<\n  http-request deny unless ok #<\n"), rule: policy.RuleACLRedefined},
	{name: "acl by path_beg", cfg: firstRule("  acl ok path_beg /metrics #<\n  http-request deny unless ok #<\n"), rule: policy.RuleACLDefinition},
	{name: "acl by -i", cfg: firstRule("  acl ok path -i /metrics #<\n  http-request deny unless ok #<\n"), rule: policy.RuleACLDefinition},
	{name: "acl shadowing METH_GET", cfg: withFE("  acl METH_GET path /x #<\n"), rule: policy.RuleACLDefinition},
	{name: "acl without test", cfg: withFE("  acl lonely #<\n"), rule: policy.RuleACLDefinition},

	// actions
	{name: "allow after the deny", cfg: withFE("  http-request allow #<\n"), rule: policy.RuleHTTPRequestAction},
	{name: "return", cfg: withFE("  http-request return status 200 content-type text/plain string ok if { path /x } #<\n"), rule: policy.RuleHTTPRequestAction},
	{name: "redirect", cfg: withFE("  http-request redirect location /metrics #<\n"), rule: policy.RuleHTTPRequestAction},
	{name: "use-service", cfg: withFE("  http-request use-service prometheus-exporter if { path /stats } #<\n"), rule: policy.RuleHTTPRequestAction},
	{name: "auth", cfg: withFE("  http-request auth #<\n"), rule: policy.RuleHTTPRequestAction},
	{name: "tarpit", cfg: withFE("  http-request tarpit #<\n"), rule: policy.RuleHTTPRequestAction},
	{name: "set-var", cfg: withFE("  http-request set-var(txn.p) path #<\n"), rule: policy.RuleHTTPRequestAction},
	{name: "add-acl", cfg: withFE("  http-request add-acl(/tmp/a) x #<\n"), rule: policy.RuleHTTPRequestAction},
	{name: "return in a backend", cfg: withBE("  http-request return status 200 #<\n"), rule: policy.RuleHTTPRequestAction},
	{name: "deny_status 200", cfg: firstRule("  http-request deny deny_status 200 if !{ path /metrics } #<\n"), rule: policy.RuleDenyOption},
	{name: "deny with a string", cfg: firstRule("  http-request deny status 403 content-type text/plain string no if !{ path /metrics } #<\n"), rule: policy.RuleDenyOption},
	{name: "deny with an errorfile", cfg: firstRule("  http-request deny errorfile /tmp/x if !{ path /metrics } #<\n"), rule: policy.RuleDenyOption},

	// rewrites
	{name: "set-path", cfg: withFE("  http-request set-path /configz #<\n"), rule: policy.RuleRewrite},
	{name: "set-pathq", cfg: withFE("  http-request set-pathq /configz #<\n"), rule: policy.RuleRewrite},
	{name: "set-uri", cfg: withFE("  http-request set-uri /configz #<\n"), rule: policy.RuleRewrite},
	{name: "replace-path", cfg: withFE("  http-request replace-path /metrics(.*) /configz\\1 #<\n"), rule: policy.RuleRewrite},
	{name: "replace-uri", cfg: withFE("  http-request replace-uri ^/metrics /configz #<\n"), rule: policy.RuleRewrite},
	{name: "set-query", cfg: withFE("  http-request set-query debug=1 #<\n"), rule: policy.RuleRewrite},
	{name: "set-method", cfg: withFE("  http-request set-method POST #<\n"), rule: policy.RuleRewrite},
	{name: "set-dst", cfg: withFE("  http-request set-dst ipv4(127.0.0.1) #<\n"), rule: policy.RuleRewrite},
	{name: "set-dst-port", cfg: withFE("  http-request set-dst-port int(10250) #<\n"), rule: policy.RuleRewrite},
	{name: "normalize-uri", cfg: withFE("  http-request normalize-uri path-merge-slashes #<\n"), rule: policy.RuleRewrite},
	{name: "set-path in a backend", cfg: withBE("  http-request set-path /configz #<\n"), rule: policy.RuleRewrite},
	{name: "replace-path in a backend", cfg: withBE("  http-request replace-path .* /debug/pprof/ #<\n"), rule: policy.RuleRewrite},
	{name: "tcp-request set-dst-port", cfg: withFE("  tcp-request content set-dst-port int(10250) #<\n"), rule: policy.RuleRewrite},
	{name: "http-response rule", cfg: withFE("  http-response set-status 200 #<\n"), rule: policy.RuleResponseRule},
	{name: "http-after-response rule", cfg: withFE("  http-after-response set-status 200 #<\n"), rule: policy.RuleResponseRule},
	{name: "tcp-request rule", cfg: withFE("  tcp-request connection accept #<\n"), rule: policy.RuleTCPRule},
	{name: "tcp-response rule", cfg: withBE("  tcp-response content accept #<\n"), rule: policy.RuleTCPRule},

	// headers
	{name: "set Authorization", cfg: withFE("  http-request set-header Authorization \"Bearer x\" #<\n"), rule: policy.RuleHeaderAction},
	{name: "add X-Remote-User", cfg: withFE("  http-request add-header X-Remote-User admin #<\n"), rule: policy.RuleHeaderAction},
	{name: "set X-Remote-Group in a backend", cfg: withBE("  http-request set-header x-remote-group system:masters #<\n"), rule: policy.RuleHeaderAction},
	{name: "del-header", cfg: withFE("  http-request del-header Accept #<\n"), rule: policy.RuleHeaderAction},

	// keywords that make haproxy answer
	{name: "stats enable", cfg: withBE("  stats enable #<\n"), rule: policy.RuleStats},
	{name: "stats uri", cfg: withFE("  stats uri /metrics #<\n"), rule: policy.RuleStats},
	{name: "stats in defaults", cfg: strings.Replace(std(), "  mode http\n", "  mode http\n  stats enable #<\n", 1), rule: policy.RuleStats},
	{name: "global stats socket", cfg: "global\n  stats socket ipv4@127.0.0.1:9999 level admin #<\n" + std(), rule: policy.RuleStats},
	{name: "no stats", cfg: withBE("  no stats #<\n"), rule: policy.RuleStats},
	{name: "monitor-uri", cfg: withFE("  monitor-uri /configz #<\n"), rule: policy.RuleMonitorURI},
	{name: "errorfile", cfg: withFE("  errorfile 403 /etc/passwd #<\n"), rule: policy.RuleErrorPage},
	{name: "errorloc", cfg: withFE("  errorloc 403 http://example.com/ #<\n"), rule: policy.RuleErrorPage},
	{name: "errorloc302", cfg: withFE("  errorloc302 403 http://example.com/ #<\n"), rule: policy.RuleErrorPage},
	{name: "errorloc303", cfg: withFE("  errorloc303 403 http://example.com/ #<\n"), rule: policy.RuleErrorPage},
	{name: "errorfiles", cfg: withFE("  errorfiles e #<\n"), rule: policy.RuleErrorPage},
	{name: "http-error", cfg: withFE("  http-error status 403 string ok #<\n"), rule: policy.RuleErrorPage},
	{name: "lua-load", cfg: "global\n  lua-load /tmp/a.lua #<\n" + std(), rule: policy.RuleLua},
	{name: "lua-prepend-path", cfg: "global\n  lua-prepend-path /tmp/?.lua #<\n" + std(), rule: policy.RuleLua},
	{name: "lua-load-per-thread", cfg: "global\n  lua-load-per-thread /tmp/a.lua #<\n" + std(), rule: policy.RuleLua},
	{name: "setenv", cfg: "global\n  setenv NODE_IP 0.0.0.0 #<\n" + std(), rule: policy.RuleSetenv},
	{name: "presetenv", cfg: "global\n  presetenv NODE_IP 0.0.0.0 #<\n" + std(), rule: policy.RuleSetenv},
	{name: "resetenv", cfg: "global\n  resetenv #<\n" + std(), rule: policy.RuleSetenv},
	{name: "unsetenv", cfg: "global\n  unsetenv NODE_IP #<\n" + std(), rule: policy.RuleSetenv},
	{name: "filter", cfg: withFE("  filter trace #<\n"), rule: policy.RuleFilter},
	{name: "compression", cfg: withBE("  compression algo gzip #<\n"), rule: policy.RuleFilter},

	// options and other keywords
	{name: "http-use-proxy-header", cfg: withFE("  option http-use-proxy-header #<\n"), rule: policy.RuleOption},
	{name: "accept-invalid-http-request", cfg: withFE("  option accept-invalid-http-request #<\n"), rule: policy.RuleOption},
	{name: "originalto", cfg: withFE("  option originalto #<\n"), rule: policy.RuleOption},
	{name: "forwardfor to X-Remote-User", cfg: withFE("  option forwardfor header X-Remote-User #<\n"), rule: policy.RuleOption},
	{name: "httpchk", cfg: withBE("  option httpchk GET /healthz #<\n"), rule: policy.RuleOption},
	{name: "no option unknown", cfg: withFE("  no option transparent #<\n"), rule: policy.RuleOption},
	{name: "unknown keyword", cfg: withFE("  frobnicate on #<\n"), rule: policy.RuleUnknownKeyword},
	{name: "capture", cfg: withFE("  capture request header Authorization len 64 #<\n"), rule: policy.RuleUnknownKeyword},
	{name: "redirect keyword", cfg: withFE("  redirect prefix http://example.com #<\n"), rule: policy.RuleUnknownKeyword},
	{name: "bind in a backend", cfg: withBE("  bind ${NODE_IP}:10249 #<\n"), rule: policy.RuleUnknownKeyword},
	{name: "server in a frontend", cfg: withFE("  server s 127.0.0.1:10249 #<\n"), rule: policy.RuleUnknownKeyword},
	{name: "default_backend in defaults", cfg: strings.Replace(std(), "  mode http\n", "  mode http\n  default_backend kube-proxy #<\n", 1), rule: policy.RuleUnknownKeyword},
	{name: "daemon", cfg: "global\n  daemon #<\n" + std(), rule: policy.RuleUnknownKeyword},
	{name: "http-request in global", cfg: "global\n  http-request deny #<\n" + std(), rule: policy.RuleUnknownKeyword},
	{name: "empty keyword", cfg: withFE("  \"\" stats enable #<\n"), rule: policy.RuleUnknownKeyword},
	{name: "use-server", cfg: withBE("  use-server kube-proxy if TRUE #<\n"), rule: policy.RuleUnknownKeyword},
	{name: "maxconn not a number", cfg: withFE("  maxconn lots #<\n"), rule: policy.RuleKeywordArgs},
	{name: "global maxconn past the file descriptors", cfg: "global\n  maxconn 10000 #<\n" + std(), rule: policy.RuleKeywordArgs},
	{name: "mode with from nowhere", cfg: withFE("  mode http\n") + "frontend other from nowhere #<\n  mode http\n  bind ${NODE_IP}:10257\n" + deny + "  default_backend kcm #<\n", rule: policy.RuleDefaultsFrom},
	{name: "defaults named by from and inherited", cfg: "defaults base\n  mode http\nfrontend kube-proxy from base\n" + bind + deny + route + "backend kube-proxy #<\n" + server, rule: policy.RuleDefaultsFrom},
	{name: "unknown timeout", cfg: withFE("  timeout forever 5s #<\n"), rule: policy.RuleKeywordArgs},
	{name: "log to a remote host", cfg: withFE("  log 10.0.0.1:514 local0 #<\n"), rule: policy.RuleKeywordArgs},
	{name: "mode without argument", cfg: withFE("  mode #<\n"), rule: policy.RuleKeywordArgs},

	// binds
	{name: "bind star", cfg: bindLine("  bind *:10249 #<\n"), rule: policy.RuleBind},
	{name: "bind 0.0.0.0", cfg: bindLine("  bind 0.0.0.0:10249 #<\n"), rule: policy.RuleBind},
	{name: "bind :: ", cfg: bindLine("  bind :::10249 #<\n"), rule: policy.RuleBind},
	{name: "bind [::]", cfg: bindLine("  bind [::]:10249 #<\n"), rule: policy.RuleBind},
	{name: "bind port only", cfg: bindLine("  bind :10249 #<\n"), rule: policy.RuleBind},
	{name: "bind list", cfg: bindLine("  bind ${NODE_IP}:10249,127.0.0.1:10250 #<\n"), rule: policy.RuleBind},
	{name: "bind range", cfg: bindLine("  bind ${NODE_IP}:10249-10250 #<\n"), rule: policy.RuleBind},
	{name: "bind fd@", cfg: bindLine("  bind fd@3 #<\n"), rule: policy.RuleBind},
	{name: "bind unix@", cfg: bindLine("  bind unix@/tmp/s #<\n"), rule: policy.RuleBind},
	{name: "bind ipv4@", cfg: bindLine("  bind ipv4@${NODE_IP}:10249 #<\n"), rule: policy.RuleBind},
	{name: "bind another variable", cfg: bindLine("  bind ${HOST_IP}:10249 #<\n"), rule: policy.RuleBind},
	{name: "bind variable with a default", cfg: bindLine("  bind \"${NODE_IP-0.0.0.0}:10249\" #<\n"), rule: policy.RuleBind},
	{name: "bind fixed address", cfg: bindLine("  bind 10.0.0.5:10249 #<\n"), rule: policy.RuleBind},
	{name: "bind with options", cfg: bindLine("  bind ${NODE_IP}:10249 accept-proxy #<\n"), rule: policy.RuleBind},
	{name: "bind leading zero", cfg: bindLine("  bind ${NODE_IP}:010249 #<\n"), rule: policy.RuleBind},
	{name: "two binds", cfg: bindLine(bind + "  bind ${NODE_IP}:10257 #<\n"), rule: policy.RuleBindCount},
	{name: "no bind", cfg: strings.Replace(feMarked, bind, "", 1), rule: policy.RuleBindCount},
	{name: "bind on the kubelet's port", cfg: bindLine("  bind ${NODE_IP}:10250 #<\n"), rule: policy.RuleComponentPort},
	{name: "component the policy excludes", cfg: strings.Replace(strings.Replace(std(), bind, "  bind ${NODE_IP}:10249 #<\n", 1), server, "  server kube-proxy 127.0.0.1:10249 check #<\n", 1),
		policy: onlyComponent("etcd"), rule: policy.RuleComponentPort},
	{name: "two frontends on one port", cfg: std() + "frontend again\n  bind ${NODE_IP}:10249 #<\n" + deny + route, rule: policy.RuleDuplicatePort},

	// routing
	{name: "backend of another component", cfg: kp(bind+deny+"  default_backend kube-proxy #<\n", "  server kube-proxy 127.0.0.1:2381\n"), rule: policy.RuleRouting},
	{name: "conditional use_backend", cfg: kp(bind+deny+"  use_backend kube-proxy if { path /metrics } #<\n", server), rule: policy.RuleRouting},
	{name: "dynamic backend", cfg: kp(bind+deny+"  use_backend %[req.hdr(host)] #<\n", server), rule: policy.RuleRouting},
	{name: "missing backend", cfg: kp(bind+deny+"  default_backend nowhere #<\n", server), rule: policy.RuleRouting},

	// servers
	{name: "server elsewhere", cfg: serverLine("  server s 10.0.0.1:10249 #<\n"), rule: policy.RuleServerAddress},
	{name: "server 0.0.0.0:0", cfg: serverLine("  server s 0.0.0.0:0 #<\n"), rule: policy.RuleServerAddress},
	{name: "server without port", cfg: serverLine("  server s 127.0.0.1 #<\n"), rule: policy.RuleServerAddress},
	{name: "server port offset", cfg: serverLine("  server s 127.0.0.1:+1 #<\n"), rule: policy.RuleServerAddress},
	{name: "server dynamic", cfg: serverLine("  server s %[req.hdr(host)]:10249 #<\n"), rule: policy.RuleServerAddress},
	{name: "server variable", cfg: serverLine("  server s \"${UPSTREAM}:10249\" #<\n"), rule: policy.RuleExpansion},
	{name: "server ipv4@", cfg: serverLine("  server s ipv4@127.0.0.1:10249 #<\n"), rule: policy.RuleServerAddress},
	{name: "server on the kubelet's port", cfg: kp(bind+deny+route, "  server s 127.0.0.1:10250 #<\n"), rule: policy.RuleComponentPort},
	{name: "server on etcd's client port", cfg: kp(bind+deny+route, "  server s 127.0.0.1:2379 #<\n"), rule: policy.RuleComponentPort},
	{name: "server sni", cfg: serverLine("  server s 127.0.0.1:10249 ssl verify none sni req.hdr(host) #<\n"), rule: policy.RuleServerOption},
	{name: "server redir", cfg: serverLine("  server s 127.0.0.1:10249 redir http://example.com #<\n"), rule: policy.RuleServerOption},
	{name: "server verify required", cfg: serverLine("  server s 127.0.0.1:10249 ssl verify required #<\n"), rule: policy.RuleServerOption},
	{name: "server send-proxy", cfg: serverLine("  server s 127.0.0.1:10249 send-proxy #<\n"), rule: policy.RuleServerOption},
	{name: "default-server port", cfg: strings.Replace(std(), "  mode http\n", "  mode http\n  default-server port 10250 #<\n", 1), rule: policy.RuleServerOption},

	// methods
	{name: "no method deny", cfg: feMarked, policy: &policy.Policy{AllowedMethods: []string{"GET"}}, rule: policy.RuleMethodDeny},
	{name: "METH_GET lets HEAD through", cfg: strings.Replace(feMarked, route, route+"  http-request deny unless METH_GET\n", 1), policy: &policy.Policy{AllowedMethods: []string{"GET"}}, rule: policy.RuleMethodDeny},
	{name: "method deny that misses one", cfg: strings.Replace(feMarked, route, route+"  http-request deny if METH_POST\n", 1), policy: &policy.Policy{AllowedMethods: []string{"GET", "HEAD"}}, rule: policy.RuleMethodDeny},
}

func TestValidateConfigRejects(t *testing.T) {
	for _, tc := range rejectCases {
		t.Run(string(tc.rule)+"/"+tc.name, func(t *testing.T) {
			checkReject(t, tc)
		})
	}
}

// checkReject checks that tc breaks its rule on its first marked line, and only marked lines.
func checkReject(t *testing.T, tc rejectCase) {
	t.Helper()
	{
		{
			marked := markedLines(tc.cfg)
			require.NotEmpty(t, marked, "a reject case marks its line")
			vs := policy.ValidateConfig([]byte(tc.cfg), tc.policy)
			found := false
			for _, v := range vs {
				found = found || v.Rule == tc.rule && v.Line == marked[0]
				assert.Contains(t, marked, v.Line, "unexpected violation %s", v)
				assert.Equal(t, "haproxy.cfg", v.Source)
				assert.NotEmpty(t, v.Message)
				assert.Equal(t, strings.ToLower(v.Message[:1]), v.Message[:1], "message starts in lower case: %s", v)
			}
			assert.True(t, found, "want %s at line %d; got:\n%s\nconfig:\n%s", tc.rule, marked[0], render(vs), tc.cfg)
		}
	}
}
