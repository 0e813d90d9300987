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
		"log": checkLog, "log-tag": oneWord, "log-send-hostname": optionalWord, "maxconn": number,
		"nbthread": number, "hard-stop-after": duration, "spread-checks": number, "ulimit-n": number,
	},
	haproxy.Defaults: {
		"mode": checkMode, "log": checkLog, "option": checkOption, "timeout": checkTimeout,
		"retries": number, "default-server": checkDefaultServer, "maxconn": number, "balance": checkBalance,
		"http-reuse": checkHTTPReuse,
	},
	haproxy.Frontend: {
		"mode": checkMode, "bind": checkBind, "default_backend": checkRoute, "use_backend": checkRoute,
		"log": checkLog, "option": checkOption, "timeout": checkTimeout, "maxconn": number,
	},
	haproxy.Backend: {
		"mode": checkMode, "server": checkServer, "default-server": checkDefaultServer, "balance": checkBalance,
		"http-reuse": checkHTTPReuse, "timeout": checkTimeout, "retries": number, "log": checkLog,
		"option": checkOption, "fullconn": number,
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

// isNumber reports whether s is a non-empty run of decimal digits.
func isNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isDuration reports whether s is an HAProxy time: digits and an optional unit.
func isDuration(s string) bool {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	switch s[i:] {
	case "", "us", "ms", "s", "m", "h", "d":
		return i > 0
	}
	return false
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
	if h, ok := allowed[kind][d.Keyword]; ok {
		h(v, sec, d)
		return
	}
	if why, ok := unknownReasons[d.Keyword]; ok {
		v.add(d.Line, RuleUnknownKeyword, "%s %s; it is not allowed", d.Keyword, why)
		return
	}
	if !v.counted(d.Line) {
		v.add(d.Line, RuleUnknownKeyword, "keyword %s is not allowed in a %s section; allowed: %s", d.Keyword, kind, allowedList(kind))
	}
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
	if len(d.Args) > 0 && kind != haproxy.Global {
		switch kw := d.Args[0].Value; {
		case kw == "option":
			checkOptionWords(v, d, d.Args[1:])
			return
		case kw == "log" && d.Keyword == "no" && len(d.Args) == 1:
			return
		}
	}
	v.add(d.Line, RuleUnknownKeyword, "%s is not allowed in a %s section; only \"no option\", \"default option\" and \"no log\" take a prefix", directiveText(d), kind)
}

// defaultsRule reports an acl or a rule in a defaults section.
func (v *validator) defaultsRule(sec *section, d haproxy.Directive) {
	if d.Keyword != "acl" && isRewrite(ruleAction(d)) {
		v.add(d.Line, RuleRewrite, "%s %s in %s: rewrites are not allowed anywhere; a rewrite after the path check reopens every path", d.Keyword, ruleAction(d), sec.what())
		return
	}
	v.add(d.Line, RuleDefaultsRule, "%s in %s: defaults sections may carry no acl and no rules; named defaults run theirs before the proxy's own", d.Keyword, sec.what())
}

func number(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) != 1 || !isNumber(d.Args[0].Value) {
		v.add(d.Line, RuleKeywordArgs, "%s wants one number, got %q", d.Keyword, argsText(d))
	}
}

func duration(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) != 1 || !isDuration(d.Args[0].Value) {
		v.add(d.Line, RuleKeywordArgs, "%s wants one time such as 30s, got %q", d.Keyword, argsText(d))
	}
}

func oneWord(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) != 1 {
		v.add(d.Line, RuleKeywordArgs, "%s wants one word (quote a text with blanks), got %d", d.Keyword, len(d.Args))
	}
}

func optionalWord(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) > 1 {
		v.add(d.Line, RuleKeywordArgs, "%s wants at most one word, got %d", d.Keyword, len(d.Args))
	}
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

// logTargets are where logs may go: the container's output or the local syslog socket.
var logTargets = map[string]bool{"stdout": true, "stderr": true, "/dev/log": true}

func checkLog(v *validator, sec *section, d haproxy.Directive) {
	switch {
	case len(d.Args) == 0:
		v.add(d.Line, RuleKeywordArgs, "log wants a target such as stdout")
	case d.Args[0].Value == "global" && sec.s.Kind != haproxy.Global:
		if len(d.Args) != 1 {
			v.add(d.Line, RuleKeywordArgs, "log global takes no more arguments")
		}
	case !logTargets[d.Args[0].Value]:
		v.add(d.Line, RuleKeywordArgs, "log target %s: logs may only go to stdout, stderr or /dev/log", d.Args[0].Value)
	}
}

// timeouts are the timeout names haproxy 2.6 knows.
var timeouts = map[string]bool{
	"client": true, "server": true, "connect": true, "queue": true, "tunnel": true, "check": true,
	"http-request": true, "http-keep-alive": true, "client-fin": true, "server-fin": true, "tarpit": true,
}

func checkTimeout(v *validator, sec *section, d haproxy.Directive) {
	switch {
	case len(d.Args) != 2:
		v.add(d.Line, RuleKeywordArgs, "timeout wants a name and a time, e.g. timeout client 5s, got %q", argsText(d))
	case !timeouts[d.Args[0].Value]:
		v.add(d.Line, RuleKeywordArgs, "timeout %s is not a timeout haproxy knows", d.Args[0].Value)
	case !isDuration(d.Args[1].Value):
		v.add(d.Line, RuleKeywordArgs, "timeout %s %s: want a time such as 5000ms or 5s", d.Args[0].Value, d.Args[1].Value)
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
