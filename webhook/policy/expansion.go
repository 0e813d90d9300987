package policy

import (
	"strings"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// HAProxy 2.6 expands '$' references while it splits a line into words: inside double quotes
// "$NAME", "${NAME}" and "${NAME-default}" become the variable's value or the default written
// in the file, "${NAME[*]}" and "${NAME[*]-a b c}" become several words, and $.LINE, $.FILE
// and $.SECTION change from line to line; address parsers (bind, server) expand a '$' whatever
// the quoting. A word with a '$' can therefore mean something else to HAProxy than to the
// validator, in any position: section names, from, routes, server names and options, ACL
// values, log arguments. Rather than model the expansion, the validator refuses every '$' but
// the one the seed needs.

// expansion reports the first word of d that holds a '$' (after unquoting and escapes, so
// "\x24" counts too) and returns whether it found one. bind is checked by checkBind instead,
// which allows the one '$' reference of ${NODE_IP}:PORT.
func (v *validator) expansion(d haproxy.Directive) bool {
	if v.off[RuleExpansion] {
		return false
	}
	if strings.IndexByte(d.Keyword, '$') >= 0 {
		v.add(d.Line, RuleExpansion, "keyword %s holds a '$': %s", d.Keyword, expansionWhy)
		return true
	}
	for _, a := range d.Args {
		if strings.IndexByte(a.Value, '$') < 0 {
			continue
		}
		v.add(d.Line, RuleExpansion, "word %s at column %d of %s holds a '$': %s", a.Raw, a.Col, d.Keyword, expansionWhy)
		return true
	}
	return false
}

const expansionWhy = "haproxy expands $NAME, ${NAME}, ${NAME-default}, ${NAME[*]} (several words) and $.LINE, $.FILE, " +
	"$.SECTION while it reads the line, so the word would not be what the validator reads; only bind ${NODE_IP}:PORT may use a variable"

// nodeIPBind reports a bind address that is exactly ${NODE_IP}:PORT once unquoted, written
// without backslashes: the one '$' reference the validator allows.
func nodeIPBind(a haproxy.Word) bool {
	rest, ok := strings.CutPrefix(a.Value, nodeIPPrefix)
	if !ok || strings.IndexByte(a.Raw, '\\') >= 0 {
		return false
	}
	_, ok = parsePort(rest)
	return ok
}

// validName mirrors HAProxy's invalid_char(), which proxy, server and ACL names must pass:
// ASCII letters, digits, '.', ':', '-' and '_', at least one. HAProxy refuses any other byte
// (blanks, '/', bytes of 0x80 and above), so a config naming a section otherwise never starts.
func validName(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '.' && c != ':' && c != '-' && c != '_' {
			return false
		}
	}
	return name != ""
}

// header checks a global, defaults, frontend or backend header: no '$' and names HAProxy
// takes.
func (v *validator) header(s *haproxy.Section) {
	h := s.Header
	if v.expansion(h) {
		return
	}
	for _, name := range []string{s.Name, s.From} {
		if name != "" && !validName(name) && !v.off[RuleName] {
			v.add(s.Line, RuleName, "%s name %q: haproxy allows only ASCII letters, digits, '.', ':', '-' and '_' in names and refuses to start", s.Kind, name)
			return
		}
	}
}
