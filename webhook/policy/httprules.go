package policy

import (
	"errors"
	"slices"
	"strings"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// rewrites are the actions that change the request line or the destination after the check.
var rewrites = map[string]bool{
	"set-path": true, "set-pathq": true, "set-uri": true, "replace-path": true, "replace-pathq": true,
	"replace-uri": true, "set-query": true, "set-method": true, "set-dst": true, "set-dst-port": true,
	"normalize-uri": true,
}

// headerActions are the actions that add, change or remove headers.
var headerActions = map[string]bool{
	"set-header": true, "add-header": true, "replace-header": true, "replace-value": true,
	"del-header": true, "early-hint": true,
}

// actionReasons explain why some http-request actions are refused.
var actionReasons = map[string]string{
	"allow":       "ends rule evaluation: no later deny applies",
	"return":      "makes haproxy answer with content of its own",
	"redirect":    "makes haproxy answer with a redirect of its own",
	"auth":        "makes haproxy answer with an authentication challenge",
	"tarpit":      "holds the connection, then makes haproxy answer",
	"use-service": "hands the request to a service built into haproxy",
	"reject":      "closes the connection; use deny",
	"silent-drop": "drops the connection; use deny",
	"set-var":     "sets variables the validator does not follow",
	"unset-var":   "unsets variables the validator does not follow",
	"add-acl":     "changes ACL contents at run time",
	"del-acl":     "changes ACL contents at run time",
	"set-map":     "changes map contents at run time",
	"del-map":     "changes map contents at run time",
	"capture":     "captures request data",
	"lua":         "runs Lua code",
}

// ruleAction returns the action of a rule directive: the first argument, or for tcp-request and
// tcp-response the one after connection, session or content; "(...)" arguments are cut off.
func ruleAction(d haproxy.Directive) string {
	if len(d.Args) == 0 {
		return ""
	}
	a := d.Args[0].Value
	if strings.HasPrefix(d.Keyword, "tcp-") && len(d.Args) > 1 && (a == "connection" || a == "session" || a == "content") {
		a = d.Args[1].Value
	}
	name, _, _ := strings.Cut(a, "(")
	if strings.HasPrefix(name, "lua.") {
		return "lua"
	}
	return name
}

func isRewrite(action string) bool { return rewrites[action] }

// proxyRule checks an acl or a rule in a frontend or a backend.
func (v *validator) proxyRule(sec *section, d haproxy.Directive) {
	action := ruleAction(d)
	switch {
	case d.Keyword == "acl":
		v.aclDefinition(sec, d)
	case d.Keyword == "http-request":
		v.httpRequest(sec, d, action)
	case isRewrite(action):
		v.add(d.Line, RuleRewrite, "%s %s in %s: rewrites are not allowed anywhere; a rewrite after the path check reopens every path", d.Keyword, action, sec.what())
	case d.Keyword == "tcp-request" || d.Keyword == "tcp-response":
		v.add(d.Line, RuleTCPRule, "%s rules are not allowed: they run outside the http-request checks", d.Keyword)
	default:
		v.add(d.Line, RuleResponseRule, "%s rules are not allowed: they can change or replace what haproxy answers", d.Keyword)
	}
}

// httpRequest checks an http-request rule: only deny is allowed, and a frontend's first rule
// must be the exact deny of every path but the allowed ones.
func (v *validator) httpRequest(sec *section, d haproxy.Directive, action string) {
	first := sec.s.Kind == haproxy.Frontend && sec.httpRules == 1
	switch {
	case action == "":
		v.add(d.Line, RuleKeywordArgs, "http-request wants an action")
	case action == "deny":
		c, ok := v.deny(sec, d, first)
		if !ok {
			return
		}
		if first {
			v.firstRule(sec, d, c)
			return
		}
		sec.denies = append(sec.denies, c)
	case isRewrite(action):
		v.add(d.Line, RuleRewrite, "http-request %s in %s: rewrites are not allowed anywhere; a rewrite after the path check reopens every path", action, sec.what())
	case headerActions[action]:
		v.headerAction(d, action)
	case actionReasons[action] != "":
		v.add(d.Line, RuleHTTPRequestAction, "http-request %s %s; only http-request deny is allowed", action, actionReasons[action])
	default:
		v.add(d.Line, RuleHTTPRequestAction, "http-request %s is not allowed; only http-request deny is", action)
	}
}

// headerAction reports a header action, naming privilege injection when it is one.
func (v *validator) headerAction(d haproxy.Directive, action string) {
	name := ""
	if len(d.Args) > 1 {
		name = d.Args[1].Value
	}
	lower := strings.ToLower(name)
	if lower == "authorization" || strings.HasPrefix(lower, "x-remote-") || lower == "impersonate-user" || strings.HasPrefix(lower, "impersonate-") {
		v.add(d.Line, RuleHeaderAction, "http-request %s %s injects credentials or an identity into every scrape (privilege escalation); header actions are not allowed", action, name)
		return
	}
	v.add(d.Line, RuleHeaderAction, "http-request %s %s: header actions are not allowed", action, name)
}

// deny reads the options and the condition of an http-request deny rule. It returns the
// condition (nil for an unconditional deny) and whether the rule is in the grammar.
func (v *validator) deny(sec *section, d haproxy.Directive, first bool) (*condition, bool) {
	words := d.Args[1:]
	i := 0
	for i < len(words) {
		w := words[i].Value
		if w == "if" || w == "unless" {
			break
		}
		if w == "deny_status" && i+1 < len(words) {
			code := words[i+1].Value
			if !slices.Contains(denyStatuses, code) {
				v.add(d.Line, RuleDenyOption, "deny_status %s: only a 4xx status haproxy 2.6 answers with is allowed (%s); it refuses others and does not start", code, strings.Join(denyStatuses, ", "))
				return nil, false
			}
			i += 2
			continue
		}
		v.add(d.Line, RuleDenyOption, "http-request deny %s: deny may only set deny_status 4xx; its other options (status, content-type, string, file, errorfile, hdr, ...) make haproxy answer with content of its own", words[i].Raw)
		return nil, false
	}
	if i == len(words) {
		return nil, true
	}
	c, err := parseCondition(words[i].Value == "unless", words[i+1:], sec.acls)
	var redefined *redefinedError
	if first && errors.As(err, &redefined) {
		v.add(d.Line, RulePathDeny, "the first http-request rule of %s must be an exact path test, but its %v; define the ACL once", sec.what(), err)
		return nil, false
	}
	if err != nil {
		v.add(d.Line, RuleCondition, "%s: %v", strings.TrimSpace(words[i].Value+" "+argsFrom(words[i+1:])), err)
		return nil, false
	}
	return c, true
}
