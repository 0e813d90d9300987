package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// loopbacks are the hosts a server may have.
var loopbacks = map[string]bool{"127.0.0.1": true, "localhost": true, "::1": true}

func checkServer(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) < 2 {
		v.add(d.Line, RuleKeywordArgs, "server wants a name and an address")
		return
	}
	if !validName(d.Args[0].Value) && !v.off[RuleName] {
		v.add(d.Line, RuleName, "server name %q: haproxy allows only ASCII letters, digits, '.', ':', '-' and '_' and refuses to start", d.Args[0].Value)
		return
	}
	addr := d.Args[1]
	port, problem := parseServer(addr.Value)
	switch {
	case problem != "":
		v.add(d.Line, RuleServerAddress, "server %s %s %s; want 127.0.0.1:PORT", d.Args[0].Raw, addr.Raw, problem)
	case v.allowedPort(d, "server "+addr.Value, port) && !slices.Contains(sec.serverPorts, port):
		// Allowed ports are the components' ports: a handful of distinct values.
		sec.serverPorts = append(sec.serverPorts, port)
		sec.serverLines = append(sec.serverLines, d.Line)
	}
	v.serverOptions(d, d.Args[2:])
}

func checkDefaultServer(v *validator, sec *section, d haproxy.Directive) {
	v.serverOptions(d, d.Args)
}

// parseServer reads a server address: 127.0.0.1, localhost or ::1 (bracketed or not) and a port.
func parseServer(addr string) (int32, string) {
	switch {
	case strings.Contains(addr, "%["):
		return 0, "is dynamic: the request would choose where it goes"
	case strings.Contains(addr, "$"):
		return 0, "uses a variable"
	case strings.Contains(addr, "@"):
		return 0, fmt.Sprintf("uses an %s address", addr[:strings.IndexByte(addr, '@')+1])
	}
	var host, port string
	if rest, ok := strings.CutPrefix(addr, "["); ok {
		h, p, ok := strings.Cut(rest, "]")
		if !ok || (p != "" && !strings.HasPrefix(p, ":")) {
			return 0, "is not an address"
		}
		host, port = h, strings.TrimPrefix(p, ":")
	} else if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		host, port = addr[:i], addr[i+1:]
	} else {
		host = addr
	}
	switch {
	case host == "0.0.0.0" || host == "" || host == "*" || host == "::":
		return 0, "forwards to whatever address the client connected to"
	case port == "" || port == "0":
		return 0, "has no port: haproxy would use the port the client connected to"
	case port[0] == '+' || port[0] == '-':
		return 0, "offsets the port the client connected to"
	case !loopbacks[host]:
		return 0, fmt.Sprintf("forwards to %s, which is not 127.0.0.1, localhost or ::1", host)
	}
	p, ok := parsePort(port)
	if !ok {
		return 0, fmt.Sprintf("has port %q, not a number from 1 to 65535", port)
	}
	return p, ""
}

// serverOptionReasons explain why some server options are refused.
var serverOptionReasons = map[string]string{
	"sni":        "takes the TLS server name from an expression the request can influence",
	"addr":       "sends health checks to another address",
	"port":       "sends health checks to another port",
	"redir":      "makes haproxy redirect clients to another host",
	"send-proxy": "prepends a PROXY header the upstream does not expect",
	"source":     "changes the address haproxy connects from",
	"resolvers":  "resolves the address at run time",
	"init-addr":  "changes how the address is resolved",
	"track":      "ties the server to another one",
}

// serverOptions checks server and default-server options against the allowlist, each value
// within the range HAProxy 2.6 takes. ssl needs verify none on the same line: HAProxy verifies
// by default and, with no CA file, refuses to start.
func (v *validator) serverOptions(d haproxy.Directive, words []haproxy.Word) {
	ssl, verifyNone := false, false
	for i := 0; i < len(words); i++ {
		w := words[i].Value
		next := ""
		if i+1 < len(words) {
			next = words[i+1].Value
		}
		switch w {
		case "check":
			continue
		case "ssl":
			ssl = true
			continue
		case "verify":
			if next == "none" {
				verifyNone = true
				i++
				continue
			}
			v.add(d.Line, RuleServerOption, "%s: verify %s: only verify none is allowed (the upstream certificate is self-signed)", d.Keyword, next)
			return
		case "inter", "fastinter", "downinter":
			if ms, ok := millis(next); ok && ms > 0 {
				i++
				continue
			}
			v.add(d.Line, RuleKeywordArgs, "%s: %s %s: want a time such as 2s, above 0 and at most 24d", d.Keyword, w, next)
			return
		case "rise", "fall", "weight", "maxconn", "maxqueue":
			lo, hi := serverRanges[w][0], serverRanges[w][1]
			if inRange(next, lo, hi) {
				i++
				continue
			}
			v.add(d.Line, RuleKeywordArgs, "%s: %s %s: want a number from %d to %d", d.Keyword, w, next, lo, hi)
			return
		}
		why := serverOptionReasons[w]
		if why == "" {
			why = "is not in the allowlist"
		}
		v.add(d.Line, RuleServerOption, "%s option %s %s; allowed: check, ssl verify none, inter, fastinter, downinter, rise, fall, weight, maxconn, maxqueue", d.Keyword, w, why)
		return
	}
	if ssl && !verifyNone {
		v.add(d.Line, RuleServerOption, "%s: ssl without verify none: haproxy verifies the upstream certificate by default and, without a CA file, refuses to start; write ssl verify none", d.Keyword)
	}
}

// serverRanges are the values HAProxy 2.6 takes for the numeric server options.
var serverRanges = map[string][2]int{
	"rise": {1, 1000}, "fall": {1, 1000}, "weight": {0, 256}, "maxconn": {0, maxCount}, "maxqueue": {0, maxCount},
}
