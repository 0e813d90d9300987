package policy

import (
	"maps"
	"slices"
	"strings"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// handler checks one allowed keyword's directive.
type handler func(v *validator, sec *section, d haproxy.Directive)

// allowed are the keywords each section may hold; rule keywords (acl, http-request, ...) and
// the "no"/"default" prefixes are handled before this table is consulted.
var allowed = map[haproxy.SectionKind]map[string]handler{
	haproxy.Global: {
		"log": checkLog, "log-tag": checkName, "log-send-hostname": checkHostname, "maxconn": numberIn(1, maxGlobalConn),
		"nbthread": checkNbthread, "hard-stop-after": duration, "spread-checks": numberIn(0, 50),
	},
	haproxy.Defaults: {
		"mode": checkMode, "log": checkLog, "option": checkOption, "timeout": checkTimeout,
		"retries": numberIn(0, 100), "default-server": checkDefaultServer, "maxconn": numberIn(1, maxCount), "balance": checkBalance,
		"http-reuse": checkHTTPReuse,
	},
	haproxy.Frontend: {
		"mode": checkMode, "bind": checkBind, "default_backend": checkRoute, "use_backend": checkRoute,
		"log": checkLog, "option": checkOption, "timeout": checkTimeout, "maxconn": numberIn(1, maxCount),
	},
	haproxy.Backend: {
		"mode": checkMode, "server": checkServer, "default-server": checkDefaultServer, "balance": checkBalance,
		"http-reuse": checkHTTPReuse, "timeout": checkTimeout, "retries": numberIn(0, 100), "log": checkLog,
		"option": checkOption, "fullconn": numberIn(1, maxCount),
	},
}

// unknownReasons explain why some well-known keywords are not in any allowlist.
var unknownReasons = map[string]string{
	"capture":          "captures headers and cookies of the requests",
	"redirect":         "answers with a redirect of its own after the http-request rules",
	"use-server":       "picks a server by condition; route with default_backend",
	"daemon":           "detaches haproxy from the container",
	"master-worker":    "changes how haproxy runs in the container",
	"http-check":       "health checks are not in the allowlist",
	"external-check":   "runs external programs",
	"force-persist":    "overrides server selection",
	"ignore-persist":   "overrides server selection",
	"dispatch":         "forwards to a fixed address of its own",
	"source":           "sets the address haproxy connects from, transparent proxying included",
	"unique-id-header": "adds a header to the requests",
	"log-format":       "can write request headers, Authorization included, to the logs; use option httplog",
}

// directive checks one statement of a global, defaults, frontend or backend section.
func (v *validator) directive(sec *section, d haproxy.Directive) {
	if d.Keyword == "http-request" {
		sec.httpRules++ // counted even when the line is refused below
	}
	if !refusedAnyway(d) && v.expansion(d) {
		return
	}
	if d.Keyword == "" {
		v.add(d.Line, RuleUnknownKeyword, "the line starts with an empty word, which makes haproxy skip it; remove it")
		return
	}
	for _, a := range d.Args {
		if a.Value == "" {
			v.add(d.Line, RuleKeywordArgs, "empty word at column %d of %s: haproxy stops reading the arguments there", a.Col, d.Keyword)
			return
		}
	}
	if rule, why, ok := forbidden(d.Keyword); ok {
		v.add(d.Line, rule, "%s %s", directiveText(d), why)
		return
	}
	kind := sec.s.Kind
	switch d.Keyword {
	case "acl", "http-request", "http-response", "http-after-response", "tcp-request", "tcp-response":
		switch kind {
		case haproxy.Global:
			v.add(d.Line, RuleUnknownKeyword, "%s is not allowed in the global section", d.Keyword)
		case haproxy.Defaults:
			v.defaultsRule(sec, d)
		default:
			v.proxyRule(sec, d)
		}
		return
	case "no", "default":
		v.prefixed(sec, d)
		return
	}
	if h, ok := sec.allowed[d.Keyword]; ok {
		h(v, sec, d)
		return
	}
	if v.counted(d.Line) {
		return
	}
	if why, ok := unknownReasons[d.Keyword]; ok {
		v.add(d.Line, RuleUnknownKeyword, "%s %s; it is not allowed", d.Keyword, why)
		return
	}
	v.add(d.Line, RuleUnknownKeyword, "keyword %s is not allowed in a %s section; allowed: %s", d.Keyword, kind, allowedList(kind))
}

// allowedList lists the keywords of kind's allowlist, rule keywords included.
func allowedList(kind haproxy.SectionKind) string { return allowedLists[kind] }

// allowedLists are the texts of allowedList, written once rather than for every violation.
var allowedLists = func() map[haproxy.SectionKind]string {
	out := map[haproxy.SectionKind]string{}
	for kind, kws := range allowed {
		list := slices.Sorted(maps.Keys(kws))
		if kind == haproxy.Frontend || kind == haproxy.Backend {
			list = append(list, "acl", "http-request deny")
		}
		out[kind] = strings.Join(list, ", ")
	}
	return out
}()

// refusedAnyway reports a directive that its keyword or action alone refuses (stats, a
// rewrite, an http-request action other than deny, ...): the expansion check leaves it to the
// more specific rule. bind is left to checkBind, which allows the one ${NODE_IP} reference.
func refusedAnyway(d haproxy.Directive) bool {
	kw := d.Keyword
	if (kw == "no" || kw == "default") && len(d.Args) > 0 {
		kw = d.Args[0].Value
	}
	if _, _, ok := forbidden(kw); ok {
		return true
	}
	switch kw {
	case "bind", "http-response", "http-after-response", "tcp-request", "tcp-response":
		return true
	case "http-request":
		return ruleAction(d) != "deny"
	}
	return false
}

// forbidden returns the rule and the reason for keywords that are rejected in every section.
func forbidden(kw string) (RuleID, string, bool) {
	switch {
	case strings.HasPrefix(kw, "stats"):
		return RuleStats, "is not allowed: the stats page answers by itself on any path it prefixes, and the stats socket can rewrite ACLs at run time", true
	case kw == "monitor-uri" || kw == "monitor" || kw == "monitor-net":
		return RuleMonitorURI, "is not allowed: haproxy answers it itself, before any http-request rule", true
	case kw == "errorfile" || kw == "errorfiles" || kw == "errorloc" || kw == "errorloc302" || kw == "errorloc303" || kw == "http-error":
		return RuleErrorPage, "is not allowed: it makes haproxy answer with content of its own", true
	case strings.HasPrefix(kw, "lua-") || strings.HasPrefix(kw, "tune.lua."):
		return RuleLua, "is not allowed: Lua code can answer, rewrite and route requests", true
	case kw == "setenv" || kw == "presetenv" || kw == "resetenv" || kw == "unsetenv":
		return RuleSetenv, "is not allowed: it can change or empty NODE_IP, and an empty NODE_IP makes bind listen on 0.0.0.0", true
	case kw == "filter" || kw == "compression":
		return RuleFilter, "is not allowed: filters see and can change the traffic", true
	}
	return "", "", false
}

// prefixed checks "no KEYWORD ..." and "default KEYWORD ...": only options and, with no, log.
func (v *validator) prefixed(sec *section, d haproxy.Directive) {
	kind := sec.s.Kind
	if len(d.Args) > 0 {
		if rule, why, ok := forbidden(d.Args[0].Value); ok {
			v.add(d.Line, rule, "%s %s", directiveText(d), why)
			return
		}
	}
	if len(d.Args) > 0 && kind != haproxy.Global && d.Keyword == "no" {
		switch kw := d.Args[0].Value; {
		case kw == "option" && len(d.Args) == 2 && negatable[d.Args[1].Value]:
			return
		case kw == "option" && len(d.Args) >= 2 && options[d.Args[1].Value] != nil:
			v.add(d.Line, RuleKeywordArgs, "%s: haproxy 2.6 negates only %s, without arguments; it refuses this line and does not start", directiveText(d), negatableList)
			return
		case kw == "option":
			checkOptionWords(v, d, d.Args[1:])
			return
		case kw == "log" && len(d.Args) == 1:
			return
		}
	}
	v.add(d.Line, RuleUnknownKeyword, "%s is not allowed in a %s section; only \"no option\" and \"no log\" take a prefix (haproxy 2.6 refuses \"default option\" for most options)", directiveText(d), kind)
}

// defaultsRule reports an acl or a rule in a defaults section.
func (v *validator) defaultsRule(sec *section, d haproxy.Directive) {
	if d.Keyword != "acl" && isRewrite(ruleAction(d)) {
		v.add(d.Line, RuleRewrite, "%s %s in %s: rewrites are not allowed anywhere; a rewrite after the path check reopens every path", d.Keyword, ruleAction(d), sec.what())
		return
	}
	v.add(d.Line, RuleDefaultsRule, "%s in %s: defaults sections may carry no acl and no rules; named defaults run theirs before the proxy's own", d.Keyword, sec.what())
}

func checkMode(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) != 1 {
		v.add(d.Line, RuleKeywordArgs, "mode wants one word, http")
		return
	}
	sec.mode, sec.modeLine = d.Args[0].Value, d.Line
	if sec.mode != "http" {
		v.add(d.Line, RuleModeHTTP, "mode %s in %s: every proxy must run in mode http; in tcp mode haproxy ignores http-request rules", sec.mode, sec.what())
	}
}

var balances = map[string]bool{"roundrobin": true, "static-rr": true, "leastconn": true, "first": true, "source": true, "random": true}

func checkBalance(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) != 1 || !balances[d.Args[0].Value] {
		v.add(d.Line, RuleKeywordArgs, "balance %s: want one of first, leastconn, random, roundrobin, source, static-rr", argsText(d))
	}
}

func checkHTTPReuse(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) != 1 || !slices.Contains([]string{"never", "safe", "aggressive", "always"}, d.Args[0].Value) {
		v.add(d.Line, RuleKeywordArgs, "http-reuse %s: want never, safe, aggressive or always", argsText(d))
	}
}

// directiveText returns the directive as written, without comment: its keyword and arguments.
func directiveText(d haproxy.Directive) string {
	if len(d.Args) == 0 {
		return d.Keyword
	}
	return d.Keyword + " " + argsText(d)
}

// argsText returns the directive's arguments as written.
func argsText(d haproxy.Directive) string {
	return argsFrom(d.Args)
}
