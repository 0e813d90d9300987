package policy

import (
	"maps"
	"slices"
	"strings"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// options are the options a proxy or defaults section may set, with the arguments each takes:
// logging, connection handling and X-Forwarded-For, nothing that changes what reaches the
// upstream or how a request is parsed.
var options = map[string]func(args []haproxy.Word) bool{
	"httplog":             func(a []haproxy.Word) bool { return len(a) == 0 || len(a) == 1 && a[0].Value == "clf" },
	"dontlognull":         noArgs,
	"dontlog-normal":      noArgs,
	"log-separate-errors": noArgs,
	"log-health-checks":   noArgs,
	"forwardfor":          noArgs,
	"http-server-close":   noArgs,
	"http-keep-alive":     noArgs,
	"httpclose":           noArgs,
	"abortonclose":        noArgs,
	"http-ignore-probes":  noArgs,
	"clitcpka":            noArgs,
	"srvtcpka":            noArgs,
	"tcpka":               noArgs,
	"redispatch": func(a []haproxy.Word) bool {
		if len(a) == 1 {
			n, ok := numberValue(strings.TrimPrefix(a[0].Value, "-"))
			return ok && n <= maxCount
		}
		return len(a) == 0
	},
}

// negatable are the allowed options HAProxy 2.6 takes as "no option X" (without arguments):
// it refuses to negate httplog, forwardfor and tcpka. It takes "default option X" for none of
// the allowed options but redispatch, so the validator refuses the default prefix.
var negatable = map[string]bool{
	"dontlognull": true, "dontlog-normal": true, "log-separate-errors": true, "log-health-checks": true,
	"http-server-close": true, "http-keep-alive": true, "httpclose": true, "abortonclose": true,
	"http-ignore-probes": true, "clitcpka": true, "srvtcpka": true, "redispatch": true,
}

func noArgs(a []haproxy.Word) bool { return len(a) == 0 }

// negatableList lists the options "no option" takes, for messages.
var negatableList = strings.Join(slices.Sorted(maps.Keys(negatable)), ", ")

// optionList lists the allowed options, for messages.
var optionList = strings.Join(slices.Sorted(maps.Keys(options)), ", ")

// optionReasons explain why some options are refused.
var optionReasons = map[string]string{
	"http-use-proxy-header":        "makes haproxy honour the Proxy-Connection header, a change in how requests are parsed",
	"accept-invalid-http-request":  "accepts malformed requests, a request-smuggling vector",
	"accept-invalid-http-response": "accepts malformed responses, a response-splitting vector",
	"http_proxy":                   "forwards each request to the host its URL names",
	"transparent":                  "forwards to the address the client connected to",
	"originalto":                   "adds a header to the requests",
	"http-buffer-request":          "is not needed to proxy metrics",
	"httpchk":                      "sends health checks the allowlist does not cover",
	"tcp-check":                    "sends health checks the allowlist does not cover",
	"ssl-hello-chk":                "sends health checks the allowlist does not cover",
	"external-check":               "runs external programs",
	"splice-auto":                  "is not needed to proxy metrics",
	"tcplog":                       "logs as tcp; use option httplog",
}

func checkOption(v *validator, sec *section, d haproxy.Directive) {
	checkOptionWords(v, d, d.Args)
}

// checkOptionWords checks "option NAME ARGS..." given the words after "option".
func checkOptionWords(v *validator, d haproxy.Directive, words []haproxy.Word) {
	if len(words) == 0 {
		v.add(d.Line, RuleKeywordArgs, "option wants a name")
		return
	}
	name := words[0].Value
	ok, known := options[name]
	switch {
	case known && ok(words[1:]):
		return
	case known && name == "forwardfor":
		v.add(d.Line, RuleOption, "option forwardfor %s: only plain option forwardfor is allowed; header, except and if-none change which header is set", argsFrom(words[1:]))
	case known:
		v.add(d.Line, RuleKeywordArgs, "option %s: unexpected arguments %q", name, argsFrom(words[1:]))
	case optionReasons[name] != "":
		v.add(d.Line, RuleOption, "option %s %s; it is not allowed", name, optionReasons[name])
	default:
		v.add(d.Line, RuleOption, "option %s is not in the allowlist; allowed: %s", name, optionList)
	}
}

// argsFrom returns words as written.
func argsFrom(words []haproxy.Word) string {
	raws := make([]string, len(words))
	for i, w := range words {
		raws[i] = w.Raw
	}
	return strings.Join(raws, " ")
}
