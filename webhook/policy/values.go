package policy

import (
	"slices"
	"strconv"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// The values allowed keywords take, each within the range HAProxy 2.6 starts with: a value it
// refuses (nbthread 0, spread-checks 51, weight 257, rise 0, a time past 2^31-1 ms, a log
// length below 80, a log without facility) would make every proxy pod crash-loop.

// maxCount bounds the counts (maxconn, fullconn, maxqueue, redispatch): far above what a
// metrics proxy needs, far below where HAProxy's integers overflow.
const maxCount = 1000000

// maxGlobalConn bounds the global maxconn: HAProxy needs about 2*maxconn+20 file descriptors
// and refuses to start ("Cannot raise FD limit") when the container's hard limit is lower, which
// haproxy -c does not see. 4096 needs about 8,200, below the limits container runtimes set.
const maxGlobalConn = 4096

// maxMillis is HAProxy's largest time, in milliseconds (its timers are signed 32-bit).
const maxMillis = 1<<31 - 1

// numberValue reads a run of 1 to 10 decimal digits.
func numberValue(s string) (int, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// isNumber reports whether s is a number of at most 10 digits.
func isNumber(s string) bool {
	_, ok := numberValue(s)
	return ok
}

// inRange reports whether s is a number from min to max.
func inRange(s string, min, max int) bool {
	n, ok := numberValue(s)
	return ok && min <= n && n <= max
}

// millis reads an HAProxy time, digits and an optional unit (us, ms, s, m, h, d; ms without
// one), and returns it in milliseconds, rounded up; ok is false past maxMillis.
func millis(s string) (int64, bool) {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	n, ok := numberValue(s[:i])
	if !ok {
		return 0, false
	}
	var ms int64
	switch s[i:] {
	case "us":
		ms = (int64(n) + 999) / 1000
	case "", "ms":
		ms = int64(n)
	case "s":
		ms = int64(n) * 1000
	case "m":
		ms = int64(n) * 60 * 1000
	case "h":
		ms = int64(n) * 3600 * 1000
	case "d":
		ms = int64(n) * 86400 * 1000
	default:
		return 0, false
	}
	return ms, ms <= maxMillis
}

// isDuration reports whether s is an HAProxy time HAProxy accepts.
func isDuration(s string) bool {
	_, ok := millis(s)
	return ok
}

// numberIn returns a handler for a keyword that takes one number from min to max.
func numberIn(min, max int) handler {
	return func(v *validator, sec *section, d haproxy.Directive) {
		if len(d.Args) != 1 || !inRange(d.Args[0].Value, min, max) {
			v.add(d.Line, RuleKeywordArgs, "%s wants one number from %d to %d, got %q", d.Keyword, min, max, argsText(d))
		}
	}
}

// checkNbthread checks nbthread: one number from 1 to 64, in a global section above every other
// section (HAProxy 3.0 refuses it after a defaults, frontend or backend section; 2.6 took it).
func checkNbthread(v *validator, sec *section, d haproxy.Directive) {
	numberIn(1, 64)(v, sec, d)
	if v.sections > 0 {
		v.add(d.Line, RuleKeywordArgs, "nbthread after a defaults, frontend or backend section: HAProxy 3.0 refuses to start; write it in a global section above them")
	}
}

func duration(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) != 1 || !isDuration(d.Args[0].Value) {
		v.add(d.Line, RuleKeywordArgs, "%s wants one time such as 30s, at most 24d, got %q", d.Keyword, argsText(d))
	}
}

// checkName checks a keyword that takes one name (log-tag).
func checkName(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) != 1 || !validName(d.Args[0].Value) {
		v.add(d.Line, RuleKeywordArgs, "%s wants one name of letters, digits, '.', ':', '-' and '_', got %q", d.Keyword, argsText(d))
	}
}

// checkHostname checks log-send-hostname [NAME].
func checkHostname(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) > 1 || len(d.Args) == 1 && !validName(d.Args[0].Value) {
		v.add(d.Line, RuleKeywordArgs, "%s wants at most one name of letters, digits, '.', ':', '-' and '_', got %q", d.Keyword, argsText(d))
	}
}

// Log targets, formats, facilities and levels of "log TARGET [len N] [format F] FACILITY
// [LEVEL [MINLEVEL]]", the shape HAProxy 2.6 reads, in that order.
var (
	logTargets    = []string{"stdout", "stderr", "/dev/log"}
	logFormats    = []string{"local", "rfc3164", "rfc5424", "priority", "short", "timed", "iso", "raw"}
	logFacilities = []string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
		"auth2", "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
		"local5", "local6", "local7"}
	logLevels = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}
)

func checkLog(v *validator, sec *section, d haproxy.Directive) {
	if len(d.Args) == 1 && d.Args[0].Value == "global" && sec.s.Kind != haproxy.Global {
		return
	}
	if problem := logShape(d.Args); problem != "" {
		v.add(d.Line, RuleKeywordArgs, "log %s: %s; want log stdout|stderr|/dev/log [len 80-65535] [format FORMAT] FACILITY [LEVEL [LEVEL]], or log global in a proxy", argsText(d), problem)
	}
}

// logShape says what is wrong with the words of a log line; "" when nothing is.
func logShape(args []haproxy.Word) string {
	w := make([]string, len(args))
	for i, a := range args {
		w[i] = a.Value
	}
	switch {
	case len(w) == 0:
		return "no target"
	case !slices.Contains(logTargets, w[0]):
		return "logs may only go to stdout, stderr or /dev/log"
	}
	w = w[1:]
	if len(w) >= 2 && w[0] == "len" {
		if !inRange(w[1], 80, 65535) {
			return "len wants a number from 80 to 65535"
		}
		w = w[2:]
	}
	if len(w) >= 2 && w[0] == "format" {
		if !slices.Contains(logFormats, w[1]) {
			return "unknown format " + w[1]
		}
		w = w[2:]
	}
	switch {
	case len(w) == 0:
		return "no facility (haproxy refuses it)"
	case !slices.Contains(logFacilities, w[0]):
		return "unknown facility " + w[0]
	case len(w) > 3:
		return "too many words"
	}
	for _, l := range w[1:] {
		if !slices.Contains(logLevels, l) {
			return "unknown level " + l
		}
	}
	return ""
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
		v.add(d.Line, RuleKeywordArgs, "timeout %s %s: want a time such as 5000ms or 5s, at most 24d", d.Args[0].Value, d.Args[1].Value)
	}
}

// denyStatuses are the 4xx codes HAProxy 2.6 answers a deny with (its http_err_codes).
var denyStatuses = []string{"400", "401", "403", "404", "405", "407", "408", "410", "413", "421", "422", "425", "429"}
