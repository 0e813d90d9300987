package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/metrics-proxy/injector/webhook/haproxy"
	"github.com/metrics-proxy/injector/webhook/names"
)

// nodeIPPrefix is how every bind address starts.
const nodeIPPrefix = "${" + names.NodeIPEnv + "}:"

// wantDeny is the path deny the messages suggest.
func (v *validator) wantDeny() string {
	if v.want == "" {
		v.want = "http-request deny if !{ path " + strings.Join(v.p.paths(), " ") + " }"
	}
	return v.want
}

// firstRule checks that a frontend's first http-request rule, a deny with condition c (nil: no
// condition), denies every path but allowed ones, and nothing else.
func (v *validator) firstRule(sec *section, d haproxy.Directive, c *condition) {
	line := d.Line
	switch {
	case c == nil:
		v.add(line, RulePathDeny, "the first http-request rule of %s denies every path unconditionally; want %q", sec.what(), v.wantDeny())
		return
	case len(c.suites) > 1:
		v.add(line, RulePathDeny, "the first http-request rule of %s has alternatives (or, ||): it denies less than every other path; want %q", sec.what(), v.wantDeny())
		return
	case len(c.suites[0]) > 1:
		v.add(line, RulePathDeny, "the first http-request rule of %s ANDs %d tests: a request that fails one of them is not denied whatever its path; want only the path test %q", sec.what(), len(c.suites[0]), v.wantDeny())
		return
	}
	t := c.suites[0][0]
	switch {
	case t.form:
		v.add(line, RulePathDeny, "the first http-request rule of %s tests the request's form (%s), not the path; the path deny %q must come first", sec.what(), t.name, v.wantDeny())
		return
	case t.preds[0].fetch != "path":
		v.add(line, RulePathDeny, "the first http-request rule of %s tests the method, not the path; the path deny %q must come first", sec.what(), v.wantDeny())
		return
	case t.neg == c.unless:
		v.add(line, RulePathDeny, "the first http-request rule of %s denies only %s and lets every other path through; want %q", sec.what(), strings.Join(t.preds[0].values, " "), v.wantDeny())
		return
	}
	var extra []string
	for _, p := range t.preds[0].values {
		if !slices.Contains(v.p.paths(), p) && !slices.Contains(extra, p) {
			extra = append(extra, p)
		}
	}
	if len(extra) > 0 {
		v.add(line, RuleAllowedPath, "the path deny of %s lets %s through, which the policy does not allow (allowed: %s)", sec.what(), strings.Join(extra, " "), strings.Join(v.p.paths(), " "))
		return
	}
	sec.pathDeny = c
	sec.denies = append(sec.denies, c)
}

func checkBind(v *validator, sec *section, d haproxy.Directive) {
	sec.binds++
	if sec.binds > 1 {
		v.add(d.Line, RuleBindCount, "%s already has a bind; one bind per frontend", sec.what())
	}
	if len(d.Args) == 0 {
		v.add(d.Line, RuleBind, "bind wants an address; want %sPORT", nodeIPPrefix)
		return
	}
	addr := d.Args[0].Value
	port, problem := parseBind(addr)
	if problem != "" {
		want := "PORT"
		if port > 0 {
			want = strconv.Itoa(int(port))
		}
		v.add(d.Line, RuleBind, "bind %s %s; want %s%s", d.Args[0].Raw, problem, nodeIPPrefix, want)
		return
	}
	if !nodeIPBind(d.Args[0]) {
		v.add(d.Line, RuleBind, "bind %s is written with backslashes; write exactly bind %s%d", d.Args[0].Raw, nodeIPPrefix, port)
		return
	}
	if len(d.Args) > 1 {
		v.add(d.Line, RuleBind, "bind options %s are not allowed; want exactly bind %s%d", argsFrom(d.Args[1:]), nodeIPPrefix, port)
	}
	if !v.allowedPort(d, "bind "+addr, port) {
		return
	}
	if sec.port == 0 {
		sec.port = port
	}
	if prev, ok := v.ports[port]; ok {
		v.add(d.Line, RuleDuplicatePort, "port %d is already bound at line %d; one frontend per port (with SO_REUSEPORT both would listen)", port, prev)
		return
	}
	v.ports[port] = d.Line
}

// allowedPort reports a port of no component the policy allows.
func (v *validator) allowedPort(d haproxy.Directive, what string, port int32) bool {
	if _, ok := v.p.componentOnPort(port); ok {
		return true
	}
	var allowed []string
	for _, c := range v.p.components() {
		allowed = append(allowed, fmt.Sprintf("%s %d", c.Name, c.Port))
	}
	v.add(d.Line, RuleComponentPort, "%s: port %d is not the port of a component the policy allows (%s)", what, port, strings.Join(allowed, ", "))
	return false
}

// parseBind reads a bind address; it returns the port and, when the address is not exactly
// ${NODE_IP}:PORT, why (with the port if it could read one).
func parseBind(addr string) (int32, string) {
	if rest, ok := strings.CutPrefix(addr, nodeIPPrefix); ok {
		if port, ok := parsePort(rest); ok {
			return port, ""
		}
		switch {
		case strings.Contains(rest, ","):
			return 0, "lists several addresses"
		case strings.Contains(rest, "-"):
			return 0, "binds a port range"
		}
		return 0, fmt.Sprintf("has port %q, not a number from 1 to 65535", rest)
	}
	if strings.Contains(addr, ",") {
		return 0, "lists several addresses"
	}
	if i := strings.IndexByte(addr, '@'); i >= 0 {
		return 0, fmt.Sprintf("uses an %s address", addr[:i+1])
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return 0, "has no port"
	}
	host, portText := addr[:i], addr[i+1:]
	port, _ := parsePort(portText)
	switch {
	case strings.Contains(portText, "-"):
		return port, "binds a port range"
	case host == "" || host == "*" || host == "0.0.0.0" || host == "::" || host == "[::]" || host == ":::" || host == "[::0]" || host == "::0":
		return port, "listens on every address"
	case strings.Contains(host, "$"):
		return port, fmt.Sprintf("binds on %s, not on ${%s} (the node's IP from status.hostIP)", host, names.NodeIPEnv)
	}
	return port, fmt.Sprintf("binds the fixed address %s, not ${%s} (the node's IP from status.hostIP)", host, names.NodeIPEnv)
}

// parsePort reads a port written canonically: 1 to 65535, no sign, no leading zero.
func parsePort(s string) (int32, bool) {
	if s == "" || len(s) > 5 || s[0] == '0' || !isNumber(s) {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 65535 {
		return 0, false
	}
	return int32(n), true
}

func checkRoute(v *validator, sec *section, d haproxy.Directive) {
	switch {
	case len(d.Args) == 0:
		v.add(d.Line, RuleRouting, "%s wants a backend name", d.Keyword)
	case len(d.Args) > 1:
		v.add(d.Line, RuleRouting, "%s %s: conditional or extended routing is not allowed; route with default_backend NAME", d.Keyword, argsText(d))
	case strings.Contains(d.Args[0].Value, "%["):
		v.add(d.Line, RuleRouting, "%s %s: a dynamic backend name lets the request choose its backend", d.Keyword, d.Args[0].Raw)
	default:
		sec.routes = append(sec.routes, route{backend: d.Args[0].Value, line: d.Line, keyword: d.Keyword})
	}
}

// endFrontend checks what a frontend as a whole must have; it reports whether it kept sec for
// the routing check.
func (v *validator) endFrontend(sec *section) bool {
	if sec.binds == 0 && !v.counted(sec.s.Line) {
		v.add(sec.s.Line, RuleBindCount, "%s has no bind; want bind %sPORT", sec.what(), nodeIPPrefix)
	}
	if sec.httpRules == 0 && !v.counted(sec.s.Line) {
		v.add(sec.s.Line, RulePathDeny, "%s has no http-request rule, so every path reaches the backend; want %q as its first rule", sec.what(), v.wantDeny())
	}
	v.methods(sec)
	if len(sec.routes) == 0 {
		return false
	}
	v.order = append(v.order, sec) // only routing looks at it again
	return true
}

// routing checks, once every backend is known, that each frontend routes to a backend of its own
// component.
func (v *validator) routing() {
	for _, fe := range v.order {
		for _, r := range fe.routes {
			be := v.backends[r.backend]
			if be == nil {
				v.add(r.line, RuleRouting, "%s %s names no backend section", r.keyword, r.backend)
				continue
			}
			if fe.port == 0 {
				continue
			}
			for i, port := range be.serverPorts {
				if port != fe.port {
					c, _ := v.p.componentOnPort(fe.port)
					v.add(r.line, RuleRouting, "%s %s leads to backend %s, whose server at line %d is on port %d, not on port %d of %s", r.keyword, r.backend, r.backend, be.serverLines[i], port, fe.port, c.Name)
					break
				}
			}
		}
	}
}
