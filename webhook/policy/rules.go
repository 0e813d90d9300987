package policy

// RuleID names one check. The ids are stable: admission messages, metrics labels and CI scripts
// quote them. docs/policy-rules.md explains each in one line.
type RuleID string

// Rules on haproxy.cfg.
const (
	// RuleSyntax: a line HAProxy cannot split into words, a malformed section header, an
	// unbalanced conditional block, or a file without a final line feed (HAProxy 2.6 refuses it).
	RuleSyntax RuleID = "syntax"
	// RuleOutsideSection: a directive before the first section header.
	RuleOutsideSection RuleID = "outside-section"
	// RuleDotDirective: .if, .elif, .else, .endif, .notice, .warning, .alert, .diag or a
	// "[scope]" line; a condition on the environment can switch lines on or off.
	RuleDotDirective RuleID = "dot-directive"
	// RuleSectionKind: a section other than global, defaults, frontend, backend (program, peers,
	// resolvers, cache, ring, userlist, ...).
	RuleSectionKind RuleID = "section-kind"
	// RuleSectionCount: more than 64 defaults, frontend and backend sections in one config.
	RuleSectionCount RuleID = "section-count"
	// RuleListenSection: a listen section, a frontend and a backend in one, which the validator
	// does not take apart.
	RuleListenSection RuleID = "listen-section"
	// RuleUnknownKeyword: a keyword the section's allowlist does not hold.
	RuleUnknownKeyword RuleID = "unknown-keyword"
	// RuleKeywordArgs: an allowed keyword with arguments outside its allowed shape.
	RuleKeywordArgs RuleID = "keyword-args"
	// RuleDuplicateName: two frontends, two backends or two defaults sections of one name, or
	// two servers of one name in a backend (HAProxy refuses those and does not start).
	RuleDuplicateName RuleID = "duplicate-name"
	// RuleExpansion: a '$' in any word but the address of bind ${NODE_IP}:PORT. HAProxy
	// expands environment variables, defaults written in the file, ${NAME[*]} word splitting
	// and $.LINE, $.FILE, $.SECTION while it reads a line, so the word is not what the
	// validator reads.
	RuleExpansion RuleID = "expansion"
	// RuleName: a section or server name with a character HAProxy refuses (only ASCII letters,
	// digits, '.', ':', '-', '_'): HAProxy would not start.
	RuleName RuleID = "name"
	// RuleDefaultsFrom: "from NAME" names no defaults section above the section.
	RuleDefaultsFrom RuleID = "defaults-from"
	// RuleModeHTTP: a proxy not in mode http (tcp is HAProxy's default, and tcp mode ignores
	// http-request rules with only a warning), or a mode other than http anywhere.
	RuleModeHTTP RuleID = "mode-http"
	// RuleDefaultsRule: acl, http-request, http-response or tcp-request in a defaults section;
	// named defaults pass their rules on to the proxies that use them, ahead of their own.
	RuleDefaultsRule RuleID = "defaults-rule"
	// RuleStats: any stats keyword (stats uri answers on any path it prefixes; global stats
	// socket opens the runtime API, which can rewrite ACLs).
	RuleStats RuleID = "stats"
	// RuleMonitorURI: monitor-uri and monitor, which answer before any http-request rule.
	RuleMonitorURI RuleID = "monitor-uri"
	// RuleErrorPage: errorfile, errorfiles, errorloc, errorloc302, errorloc303, http-error and
	// http-errors sections, which make HAProxy answer with content of its own.
	RuleErrorPage RuleID = "error-page"
	// RuleLua: lua-load, lua-load-per-thread, lua-prepend-path and tune.lua settings: Lua code
	// can answer, rewrite and route.
	RuleLua RuleID = "lua"
	// RuleSetenv: global setenv, presetenv, resetenv and unsetenv, which can change NODE_IP (an
	// empty NODE_IP binds 0.0.0.0).
	RuleSetenv RuleID = "setenv"
	// RuleFilter: filter and compression, which hand the traffic to filters (SPOE agents,
	// caches, traces).
	RuleFilter RuleID = "filter"
	// RuleOption: an option outside the allowlist (http-use-proxy-header,
	// accept-invalid-http-request, originalto, checks, ...).
	RuleOption RuleID = "option"
	// RuleBind: a bind other than exactly ${NODE_IP}:PORT without options (*, 0.0.0.0, ::,
	// lists, ranges, fd@, unix@, ipv4@, another variable, bind options).
	RuleBind RuleID = "bind"
	// RuleFrontendTLS: a frontend without TLS where the policy's frontendTLS requires it, or
	// with TLS where it forbids it.
	RuleFrontendTLS RuleID = "frontend-tls"
	// RuleBindCount: a frontend with no bind or with more than one, or no frontend at all
	// (HAProxy has no listener and does not start).
	RuleBindCount RuleID = "bind-count"
	// RuleComponentPort: a bind or a server on a port of no component the policy allows.
	RuleComponentPort RuleID = "component-port"
	// RuleDuplicatePort: two frontends bound to one port (with SO_REUSEPORT both listen).
	RuleDuplicatePort RuleID = "duplicate-port"
	// RuleRouting: default_backend or use_backend that is conditional, dynamic (%[...]), names no
	// backend, or leads to a backend whose servers are not on the frontend's port.
	RuleRouting RuleID = "routing"
	// RuleServerAddress: a server not on 127.0.0.1, localhost or ::1 (0.0.0.0:0, other hosts,
	// %[...], prefixes such as ipv4@, port ranges or offsets).
	RuleServerAddress RuleID = "server-address"
	// RuleServerOption: a server or default-server option outside the allowlist.
	RuleServerOption RuleID = "server-option"
	// RuleHTTPRequestAction: an http-request action other than deny (allow, return, redirect,
	// auth, tarpit, use-service end rule evaluation or answer; set-var, capture, ...).
	RuleHTTPRequestAction RuleID = "http-request-action"
	// RuleRewrite: set-path, set-pathq, set-uri, replace-path, replace-pathq, replace-uri,
	// set-query, set-method, set-dst, set-dst-port, normalize-uri and their kin, anywhere: a
	// rewrite after the check reopens every path.
	RuleRewrite RuleID = "rewrite"
	// RuleHeaderAction: set-header, add-header, replace-header, replace-value, del-header and
	// their kin (setting Authorization or X-Remote-* injects privileges upstream).
	RuleHeaderAction RuleID = "header-action"
	// RuleResponseRule: http-response and http-after-response rules.
	RuleResponseRule RuleID = "response-rule"
	// RuleTCPRule: tcp-request and tcp-response rules.
	RuleTCPRule RuleID = "tcp-rule"
	// RuleDenyOption: http-request deny options other than deny_status with a 4xx code (deny
	// can answer with a file or a string of its own).
	RuleDenyOption RuleID = "deny-option"
	// RuleCondition: a condition outside the grammar: a fetch other than an exact path or
	// method test (path_beg, path_reg, url, base, ...), converters, -i, -f, -m other than str,
	// predefined ACLs other than METH_*, an undefined ACL, an empty word, a missing brace.
	RuleCondition RuleID = "condition"
	// RuleACLDefinition: an acl other than "acl NAME path [-m str] PATH..." or "acl NAME method
	// METHOD...", or one that shadows a predefined ACL.
	RuleACLDefinition RuleID = "acl-definition"
	// RuleACLRedefined: an ACL name defined a second time in one proxy (HAProxy ORs the
	// definitions).
	RuleACLRedefined RuleID = "acl-redefined"
	// RulePathDeny: a frontend whose first http-request rule is not the exact deny of every path
	// but the allowed ones (missing, after another rule, "or", ANDed terms, wrong polarity).
	RulePathDeny RuleID = "path-deny"
	// RuleAllowedPath: the path deny lets through a path the policy does not allow.
	RuleAllowedPath RuleID = "allowed-path"
	// RuleMethodDeny: the policy lists allowed methods and a frontend's deny rules let another
	// method through.
	RuleMethodDeny RuleID = "method-deny"
)

// Rules on a proxy DaemonSet.
const (
	// RuleProxyContainer: the DaemonSet has no container named haproxy.
	RuleProxyContainer RuleID = "proxy-container"
	// RuleNodeIPEnv: the haproxy container's NODE_IP is not the last env entry of that name
	// taken from fieldRef status.hostIP (without it HAProxy binds 0.0.0.0).
	RuleNodeIPEnv RuleID = "node-ip-env"
	// RuleContainerCommand: the haproxy container sets command or args, which could load
	// another config (-f, --) past the image's entrypoint.
	RuleContainerCommand RuleID = "container-command"
	// RuleContainerFields: the haproxy container or the proxy-cert init container sets a field
	// injection never writes that could run a process nobody validated or change what its
	// program runs: env but NODE_IP, envFrom, lifecycle hooks, exec probes (or probes aimed at
	// another host), workingDir, mounts but the config and certificate directories; on the init
	// container also probes and restartPolicy.
	RuleContainerFields RuleID = "container-fields"
	// RuleConfigVolume: the config directory is not mounted from a ConfigMap volume that
	// projects the ConfigMap's haproxy.cfg key to haproxy.cfg and nothing else, or another mount
	// shadows it.
	RuleConfigVolume RuleID = "config-volume"
	// RuleImage: the haproxy container's image matches none of the allowed images.
	RuleImage RuleID = "image"
	// RuleHostNetwork: the pod does not run on the host network, so ${NODE_IP} is not an
	// address of the pod.
	RuleHostNetwork RuleID = "host-network"
	// RuleOtherContainer: a container or init container beside haproxy that the policy's
	// allowedContainers does not list by name and image: on the host network it could run
	// anything, haproxy on another config included.
	RuleOtherContainer RuleID = "other-container"
	// RuleInjectLabel: an update removes the metrics-proxy.io/inject=true label from a DaemonSet
	// the injector completed, which would take its later writes out of the webhooks' sight (they
	// select by that label outside enabled namespaces) while every reader still counts it as a proxy.
	RuleInjectLabel RuleID = "inject-label"
	// RuleStatusMetadata: a write through the DaemonSet's status subresource changes a
	// metrics-proxy.io/ label or annotation (the audit's own annotation aside): the API server
	// lets the status subresource change metadata but not the spec, so such a write could turn a
	// DaemonSet whose spec no webhook admitted into a proxy for every reader.
	RuleStatusMetadata RuleID = "status-metadata"
	// RuleStatusAnnotation: a write adds or changes the metrics-proxy.io/status annotation, the
	// injector's record, on a DaemonSet the injector does not inject (not labelled
	// metrics-proxy.io/inject=true, namespace without injection enabled), and the record's hash is
	// not that of the DaemonSet's spec: the injector did not write it.
	RuleStatusAnnotation RuleID = "status-annotation"
)

// Rules on a proxy ConfigMap and on the size of any object the webhooks review.
const (
	// RuleConfigKeys: a ConfigMap holding haproxy.cfg has other keys, which a container could
	// read as a config nobody validated.
	RuleConfigKeys RuleID = "config-keys"
	// RuleConfigLabel: an update removes the metrics-proxy.io/config label from a ConfigMap
	// that holds haproxy.cfg, which would take its later edits out of the webhooks' sight.
	RuleConfigLabel RuleID = "config-label"
	// RuleObjectSize: an object no proxy needs: more than MaxContainers containers, a
	// haproxy.cfg larger than MaxConfigBytes, JSON nested deeper than MaxNesting.
	RuleObjectSize RuleID = "object-size"
)

// Rule is a RuleID and what it rejects, for documentation and tools.
type Rule struct {
	// ID is the rule's stable id.
	ID RuleID
	// Summary says in one line what the rule rejects and why.
	Summary string
}

// Rules returns every rule, config rules first, in a stable order.
func Rules() []Rule {
	return []Rule{
		{RuleSyntax, "lines HAProxy cannot read, malformed headers, unbalanced .if blocks, a missing final line feed"},
		{RuleOutsideSection, "directives before the first section"},
		{RuleDotDirective, ".if/.elif/.else/.endif, .notice and kin, [scope] lines: lines switched on by the environment"},
		{RuleSectionKind, "sections other than global, defaults, frontend, backend (program, peers, resolvers, ...)"},
		{RuleSectionCount, "more than 64 defaults, frontend and backend sections"},
		{RuleListenSection, "listen sections"},
		{RuleUnknownKeyword, "keywords outside the section's allowlist"},
		{RuleKeywordArgs, "allowed keywords with arguments outside their allowed shape"},
		{RuleDuplicateName, "two frontends, backends or defaults sections of one name, two servers of one name in a backend"},
		{RuleExpansion, "any '$' but bind ${NODE_IP}:PORT: haproxy expands variables, defaults, [*] word splits and $.LINE/$.SECTION"},
		{RuleName, "section and server names with characters haproxy refuses (only letters, digits, . : - _)"},
		{RuleDefaultsFrom, "from NAME naming no defaults section above"},
		{RuleModeHTTP, "proxies not in mode http: tcp is the default and ignores http-request rules"},
		{RuleDefaultsRule, "acl and rules in defaults sections, which run before the proxy's own"},
		{RuleStats, "any stats keyword: the stats page answers by itself, stats socket can rewrite ACLs"},
		{RuleMonitorURI, "monitor-uri and monitor: answered before any http-request rule"},
		{RuleErrorPage, "errorfile, errorloc*, errorfiles, http-error, http-errors sections: HAProxy answering with its own content"},
		{RuleLua, "lua-load and kin: Lua code can answer, rewrite and route"},
		{RuleSetenv, "global setenv, presetenv, resetenv, unsetenv: they can empty NODE_IP, which binds 0.0.0.0"},
		{RuleFilter, "filter and compression: traffic handed to filters"},
		{RuleOption, "options outside the allowlist (http-use-proxy-header, accept-invalid-http-request, ...)"},
		{RuleBind, "binds other than exactly ${NODE_IP}:PORT, without options or with exactly ssl crt " + tlsBindOptions[2]},
		frontendTLSRule,
		{RuleBindCount, "frontends with no bind or several, a config with no frontend"},
		{RuleComponentPort, "binds and servers on a port of no component the policy allows"},
		{RuleDuplicatePort, "two frontends on one port"},
		{RuleRouting, "conditional or dynamic routing, or routing to another component's backend"},
		{RuleServerAddress, "servers elsewhere than 127.0.0.1, localhost or ::1"},
		{RuleServerOption, "server and default-server options outside the allowlist"},
		{RuleHTTPRequestAction, "http-request actions other than deny: allow, return, redirect, auth, tarpit, use-service, ..."},
		{RuleRewrite, "set-path, set-uri, replace-path, set-query, set-method, set-dst, ... anywhere: rewrites reopen every path"},
		{RuleHeaderAction, "header actions: setting Authorization or X-Remote-* injects privileges"},
		{RuleResponseRule, "http-response and http-after-response rules"},
		{RuleTCPRule, "tcp-request and tcp-response rules"},
		{RuleDenyOption, "deny options other than deny_status 4xx: deny can answer with content"},
		{RuleCondition, "conditions other than exact path or method tests: path_beg, url, -i, converters, -f, ..."},
		{RuleACLDefinition, "acl definitions other than an exact path or method test, or shadowing a predefined ACL"},
		{RuleACLRedefined, "an ACL defined twice: HAProxy ORs the definitions"},
		{RulePathDeny, "frontends whose first http-request rule is not the exact deny of every path but the allowed ones"},
		{RuleAllowedPath, "path denies that let through a path the policy does not allow"},
		{RuleMethodDeny, "frontends that let a method through that the policy does not allow"},
		{RuleProxyContainer, "DaemonSets without a haproxy container"},
		{RuleNodeIPEnv, "NODE_IP not from fieldRef status.hostIP: unset, HAProxy binds 0.0.0.0"},
		{RuleContainerCommand, "command or args on the haproxy container: they can load another config"},
		{RuleContainerFields, "env but NODE_IP, envFrom, lifecycle hooks, exec probes, workingDir, other mounts on the injected containers"},
		{RuleConfigVolume, "the config directory not mounted from a ConfigMap projecting only haproxy.cfg, or shadowed"},
		{RuleImage, "images the policy does not allow"},
		{RuleHostNetwork, "pods off the host network"},
		{RuleOtherContainer, "containers and init containers beside haproxy that allowedContainers does not list"},
		{RuleInjectLabel, "updates that remove the metrics-proxy.io/inject label from an injected DaemonSet"},
		{RuleStatusMetadata, "writes through a DaemonSet's status subresource that change a metrics-proxy.io/ label or annotation"},
		{RuleStatusAnnotation, "a metrics-proxy.io/status annotation the injector did not write"},
		{RuleConfigKeys, "ConfigMaps holding haproxy.cfg with other keys"},
		{RuleConfigLabel, "updates that remove the metrics-proxy.io/config label from a ConfigMap holding haproxy.cfg"},
		{RuleObjectSize, "objects no proxy needs: too many containers, a huge haproxy.cfg, deep nesting"},
	}
}
