package policy_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/metrics-proxy/injector/webhook/components"
)

// grammar generates compliant configs from the allowlist's grammar itself (not by mutating
// seeds): every keyword, spelling and value range the validator accepts, bounds included. A
// config it writes breaks no rule by construction; the tests check that the validator agrees,
// that haproxy -c starts with it, and that a sample forwards /metrics only.
type grammar struct {
	r      *rand.Rand
	b      strings.Builder
	prefix string // put before every section name, so that configs can share one haproxy -c run
	ipv6   bool   // whether servers may be on ::1
	// sane keeps to values a data-plane run can probe: times of 5s and more, weights above 0,
	// deny_status 403, no httpclose (it drops pipelined requests the probes send).
	sane bool
	acls int // ACLs defined so far, to name each once
}

func (g *grammar) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *grammar) chance(p float64) bool    { return g.r.Float64() < p }

// line writes one line, quoting a word now and then: HAProxy and the validator read a word's
// value, quoted or not.
func (g *grammar) line(format string, args ...any) {
	words := strings.Fields(fmt.Sprintf(format, args...))
	for i, w := range words {
		if i == 0 && w == "bind" || strings.ContainsAny(w, "$\"'\\") {
			continue
		}
		switch g.r.IntN(40) {
		case 0:
			words[i] = `"` + w + `"`
		case 1:
			words[i] = "'" + w + "'"
		}
	}
	g.b.WriteString("  " + strings.Join(words, " ") + "\n")
}

// num returns a number from lo to hi, often a bound.
func (g *grammar) num(lo, hi int) string {
	switch g.r.IntN(4) {
	case 0:
		return strconv.Itoa(lo)
	case 1:
		return strconv.Itoa(hi)
	}
	return strconv.Itoa(lo + g.r.IntN(hi-lo+1))
}

// dur returns an HAProxy time of at most 2^31-1 ms; positive when positive is set.
func (g *grammar) dur(positive bool) string {
	opts := []string{"1", "5000ms", "5s", "30s", "1m", "2h", "24d", "2147483647", "1us", "999us", "1000000us", "59m"}
	if g.sane {
		return g.pick("5000ms", "5s", "30s", "1m", "2h", "24d", "2147483647")
	}
	if !positive {
		opts = append(opts, "0", "0s")
	}
	return g.pick(opts...)
}

// name returns a section or server name HAProxy takes: letters, digits, '.', ':', '-', '_'.
func (g *grammar) name(base string) string {
	return g.prefix + base + g.pick("", "", "-1", "_x", ".v2", ":a", "-Z9")
}

func (g *grammar) logLine(global bool) {
	if !global && g.chance(0.5) {
		g.line("log global")
		return
	}
	l := "log " + g.pick("stdout", "stderr", "/dev/log")
	if g.chance(0.3) {
		l += " len " + g.num(80, 65535)
	}
	if g.chance(0.5) {
		l += " format " + g.pick("local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw")
	}
	l += " " + g.pick("kern", "user", "daemon", "local0", "local7", "auth2", "cron2", "syslog")
	levels := []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}
	if g.chance(0.4) {
		l += " " + g.pick(levels...)
		if g.chance(0.5) {
			l += " " + g.pick(levels...)
		}
	}
	g.line("%s", l)
}

func (g *grammar) global() {
	g.b.WriteString("global\n")
	for range 1 + g.r.IntN(5) {
		switch g.r.IntN(7) {
		case 0, 1:
			g.logLine(true)
		case 2:
			g.line("log-tag %s", g.name("tag"))
		case 3:
			g.line("maxconn %s", g.num(1, 4096))
		case 4:
			g.line("nbthread %s", g.num(1, 64))
		case 5:
			g.line("hard-stop-after %s", g.dur(false))
		case 6:
			g.line("spread-checks %s", g.num(0, 50))
		}
	}
	if g.chance(0.3) {
		g.line("log-send-hostname%s", g.pick("", " "+g.name("host")))
	}
}

var (
	timeoutNames = []string{"client", "server", "connect", "queue", "tunnel", "check", "http-request",
		"http-keep-alive", "client-fin", "server-fin", "tarpit"}
	plainOptions = []string{"dontlognull", "dontlog-normal", "log-separate-errors", "log-health-checks",
		"forwardfor", "http-server-close", "http-keep-alive", "httpclose", "abortonclose",
		"http-ignore-probes", "clitcpka", "srvtcpka", "tcpka", "redispatch"}
	negatableOptions = []string{"dontlognull", "dontlog-normal", "log-separate-errors", "log-health-checks",
		"http-server-close", "http-keep-alive", "httpclose", "abortonclose", "http-ignore-probes",
		"clitcpka", "srvtcpka", "redispatch"}
)

// common writes 0 to n lines any proxy or defaults section may hold.
func (g *grammar) common(n int, backendish bool) {
	for range g.r.IntN(n + 1) {
		switch g.r.IntN(6) {
		case 0:
			g.line("timeout %s %s", g.pick(timeoutNames...), g.dur(false))
		case 1:
			o := g.pick(plainOptions...)
			if g.sane && o == "httpclose" {
				o = "http-server-close"
			}
			g.line("option %s", o)
		case 2:
			g.line("no option %s", g.pick(negatableOptions...))
		case 3:
			g.line("option %s", g.pick("httplog", "httplog clf", "redispatch "+g.num(0, 1000000), "redispatch -"+g.num(1, 1000000)))
		case 4:
			g.logLine(false)
		case 5:
			if backendish {
				g.line("retries %s", g.num(0, 100))
			} else {
				g.line("maxconn %s", g.num(1, 1000000))
			}
		}
	}
}

// serverOptions returns server options; tls components get ssl verify none.
func (g *grammar) serverOptions(tls bool) string {
	var opts []string
	if tls {
		opts = append(opts, g.pick("ssl verify none", "verify none ssl"))
	}
	for range g.r.IntN(4) {
		switch g.r.IntN(8) {
		case 0:
			opts = append(opts, "check")
		case 1:
			opts = append(opts, g.pick("inter", "fastinter", "downinter")+" "+g.dur(true))
		case 2:
			opts = append(opts, g.pick("rise", "fall")+" "+g.num(1, 1000))
		case 3:
			if g.sane {
				opts = append(opts, "weight "+g.num(1, 256))
			} else {
				opts = append(opts, "weight "+g.num(0, 256))
			}
		case 4:
			opts = append(opts, g.pick("maxconn", "maxqueue")+" "+g.num(0, 1000000))
		case 5:
			opts = append(opts, "verify none")
		}
	}
	g.r.Shuffle(len(opts), func(i, j int) { opts[i], opts[j] = opts[j], opts[i] })
	if len(opts) == 0 {
		return ""
	}
	return " " + strings.Join(opts, " ")
}

// pathDeny writes the first rule of a frontend, with the ACL it uses if any.
func (g *grammar) pathDeny() {
	status := g.pick("", "", "", " deny_status "+g.pick("400", "401", "403", "404", "405", "407", "408", "410", "413", "421", "422", "425", "429"))
	if g.sane {
		status = g.pick("", " deny_status 403")
	}
	path := g.pick("/metrics", "/metrics", `"/metrics"`, "'/metrics'", `"/met"rics`)
	m := g.pick("", "", "-m str ")
	switch g.r.IntN(5) {
	case 0:
		g.line("http-request deny%s if !{ path %s%s }", status, m, path)
	case 1:
		g.line("http-request deny%s unless { path %s%s }", status, m, path)
	case 2:
		g.line("http-request deny%s if ! { path %s%s }", status, m, path)
	default:
		g.acls++
		acl := g.pick("is_metrics", "ok", "m.1", "a:b-c_d") + strconv.Itoa(g.acls)
		g.line("acl %s path %s%s", acl, m, path)
		if g.chance(0.5) {
			g.line("http-request deny%s if !%s", status, acl)
		} else {
			g.line("http-request deny%s unless %s", status, acl)
		}
	}
}

// laterDenies writes deny rules that never deny GET /metrics (the data-plane sample expects it
// to reach the upstream).
func (g *grammar) laterDenies(n int) {
	rules := []string{
		"http-request deny if METH_POST", "http-request deny unless METH_GET",
		"http-request deny if !METH_GET !{ method OPTIONS }", "http-request deny unless { method GET HEAD }",
		"http-request deny if { path /metrics } METH_PUT || { method DELETE }",
		"http-request deny if METH_CONNECT or METH_TRACE", "http-request deny if { path -m str /other }",
		"http-request deny deny_status 405 unless METH_GET or METH_OPTIONS",
		"http-request deny if !{ path /metrics } METH_GET", "http-request deny if { method PATCH PUT POST }",
		"http-request deny if HTTP_URL_ABS !HTTP_2.0", "http-request deny if HTTP_1.0 METH_POST",
	}
	for range g.r.IntN(n + 1) {
		if g.chance(0.3) {
			g.acls++
			acl := g.pick("w", "writes", "bad.m") + strconv.Itoa(g.acls)
			g.line("acl %s method %s", acl, g.pick("POST", "PUT DELETE", "PATCH POST"))
			g.line("http-request deny if %s", acl)
			continue
		}
		g.line("%s", g.pick(rules...))
	}
}

// mode writes "mode http" in a proxy when the config has no defaults that give it.
func (g *grammar) mode(needed bool) {
	if needed || g.chance(0.15) {
		g.line("mode http")
	}
}

// config writes one compliant config for a random non-empty subset of the components.
func (g *grammar) config() string {
	g.b.Reset()
	if g.chance(0.1) {
		g.global()
	}
	from, needMode := "", false
	switch g.r.IntN(10) {
	case 0, 1: // named defaults, proxies from them
		base := g.name("base")
		g.b.WriteString("defaults " + base + "\n")
		g.line("mode http")
		g.common(4, true)
		from = base
		if g.chance(0.5) {
			child := g.name("child")
			g.b.WriteString("defaults " + child + " from " + base + "\n")
			g.common(2, true)
			from = child
		}
	case 2: // no defaults: every proxy says mode http
		needMode = true
	default:
		if g.chance(0.2) {
			g.b.WriteString("defaults " + g.name("last") + "\n") // named, used as the last one
		} else {
			g.b.WriteString("defaults\n")
		}
		g.line("mode http")
		for _, t := range []string{"connect", "client", "server"} {
			if g.chance(0.8) {
				g.line("timeout %s %s", t, g.dur(false))
			}
		}
		g.common(3, true)
		if g.chance(0.3) {
			g.line("default-server%s", g.serverOptions(false))
		}
		if g.chance(0.2) {
			g.line("balance %s", g.pick("roundrobin", "static-rr", "leastconn", "first", "source", "random"))
		}
		if g.chance(0.2) {
			g.line("http-reuse %s", g.pick("never", "safe", "aggressive", "always"))
		}
	}
	fromText := ""
	if from != "" {
		fromText = " from " + from
	}
	cs := components.All()
	g.r.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	cs = cs[:1+g.r.IntN(len(cs))]
	for _, c := range cs {
		fe, be := g.name(c.Name), g.name(c.Name+g.pick("", "-be"))
		fmt.Fprintf(&g.b, "frontend %s%s\n", g.pick(fe, fe, fe, `"`+fe+`"`), fromText)
		g.mode(needMode)
		p := strconv.Itoa(int(c.Port))
		g.line("bind %s", g.pick("${NODE_IP}:"+p, `"${NODE_IP}":`+p, `"${NODE_IP}:`+p+`"`, `'${NODE_IP}:`+p+`'`))
		g.pathDeny()
		g.laterDenies(2)
		g.common(2, false)
		g.line("%s %s", g.pick("default_backend", "use_backend"), be)
		fmt.Fprintf(&g.b, "backend %s%s\n", g.pick(be, be, be, "'"+be+"'"), fromText)
		g.mode(needMode)
		if g.chance(0.2) {
			g.line("default-server%s", g.serverOptions(false))
		}
		for i := range 1 + g.r.IntN(2) {
			host := g.pick("127.0.0.1", "127.0.0.1", "localhost")
			if g.ipv6 && g.chance(0.2) {
				host = g.pick("[::1]", "::1")
			}
			g.line("server %s %s:%s%s", g.pick(c.Name, "s"+strconv.Itoa(i), "up.1:a_b-c")+strconv.Itoa(i), host, p, g.serverOptions(c.TLS))
		}
		if g.chance(0.3) {
			g.line("balance %s", g.pick("roundrobin", "leastconn", "first", "source", "random"))
		}
		if g.chance(0.2) {
			g.line("fullconn %s", g.num(1, 1000000))
		}
		g.common(2, true)
		if g.chance(0.2) {
			g.laterDenies(1)
		}
	}
	return g.b.String()
}
