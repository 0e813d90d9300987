package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/metrics-proxy/injector/webhook/haproxy"
	"github.com/metrics-proxy/injector/webhook/names"
)

// ValidateConfig checks haproxy.cfg text against the policy (nil: Default()) and returns every
// violation, sorted by line, or nil when the config complies. Lines the parser cannot read are
// violations of RuleSyntax. ValidateConfig never panics and runs in time linear in the input.
// A hostile config can break a rule on every line: ValidateConfigN bounds what it returns.
func ValidateConfig(cfg []byte, p *Policy) []Violation {
	vs, _ := ValidateConfigN(cfg, p, 0)
	return vs
}

// ValidateConfigN is ValidateConfig keeping only the first max violations by line (every one
// when max <= 0); more is how many others it found. Its memory and the size of its answer are
// bounded by max whatever the input: the violations it leaves out are counted, not written.
func ValidateConfigN(cfg []byte, p *Policy, max int) (vs []Violation, more int) {
	return validateConfig(cfg, p, max, nil)
}

// validateConfig is ValidateConfigN with the checks of the rules in off switched off, which the
// corpus test uses to show what a check stops.
func validateConfig(cfg []byte, p *Policy, max int, off map[RuleID]bool) (vs []Violation, more int) {
	if p == nil {
		p = Default()
	}
	v := &validator{
		p:         p,
		max:       max,
		off:       off,
		named:     map[string]*section{},
		frontends: map[string]*section{},
		backends:  map[string]*section{},
		ports:     map[int32]int{},
	}
	parsed, err := haproxy.Walk(cfg, v.visit)
	v.close()
	v.syntax(parsed, err)
	v.defaultsUse()
	v.routing()
	sortByLine(v.vs)
	return v.vs, v.total - len(v.vs)
}

// validator holds the state of one ValidateConfig call.
type validator struct {
	p     *Policy
	vs    []Violation
	max   int             // the most violations kept in vs; 0: all
	off   map[RuleID]bool // checks switched off (tests only; see validateConfig)
	total int             // violations found, kept or not
	last  int             // index in vs of the violation that sorts last by line, when max > 0

	named        map[string]*section // named defaults sections seen so far
	lastDefaults *section            // the defaults section a proxy without "from" inherits
	frontends    map[string]*section // first frontend of each name
	backends     map[string]*section // first backend of each name
	order        []*section          // frontends with routes, in file order
	ports        map[int32]int       // frontend port -> line of its first bind
	spent        int                 // comparisons spent on the method check (see methodBudget)

	cur   *section // the section being read; nil when its kind is refused as a whole
	spare *section // a section no check looks at any more, to reuse
	want  string   // wantDeny's text, written once
}

// counted reports that a violation at line would not be kept (max violations are kept, none
// after line), and then counts it: a caller on a hot path need not build its message.
func (v *validator) counted(line int) bool {
	if v.max <= 0 || len(v.vs) < v.max || line < v.vs[v.last].Line {
		return false
	}
	v.total++
	return true
}

// add records a violation at line of the config. Once max violations are kept, a violation
// is written only if it comes before the last one kept by line, which it replaces.
func (v *validator) add(line int, rule RuleID, format string, args ...any) {
	v.total++
	if v.max > 0 && len(v.vs) >= v.max {
		if line >= v.vs[v.last].Line {
			return
		}
		v.vs = append(v.vs[:v.last], v.vs[v.last+1:]...)
	}
	v.vs = append(v.vs, Violation{Source: names.ConfigKey, Line: line, Rule: rule, Message: fmt.Sprintf(format, args...)})
	if v.max > 0 {
		v.last = lastByLine(v.vs)
	}
}

// syntax turns the parser's errors into violations.
func (v *validator) syntax(cfg *haproxy.Config, err error) {
	var list haproxy.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			v.add(e.Line, RuleSyntax, "%s", lowerFirst(e.Err.Error()))
		}
	} else if err != nil {
		v.add(1, RuleSyntax, "%s", lowerFirst(err.Error()))
	}
	for range cfg.OmittedErrors {
		v.total++ // lines after the first haproxy.MaxErrors errors: counted, not written
	}
	if cfg.MissingFinalNewline {
		v.add(cfg.Lines, RuleSyntax, "the file does not end with a line feed; haproxy 2.6 refuses it as truncated")
	}
}

// visit takes what haproxy.Walk reads: a section that opens (d nil) or one of its directives.
func (v *validator) visit(s *haproxy.Section, d *haproxy.Directive) {
	if d == nil {
		v.close()
		v.open(s)
		return
	}
	switch {
	case s.Kind == haproxy.NoSection:
		if !v.dotDirective(*d) && !v.counted(d.Line) {
			v.add(d.Line, RuleOutsideSection, "directive %q comes before any section; haproxy rejects it (global settings go in a global section)", d.Keyword)
		}
	case v.cur == nil, v.dotDirective(*d):
	default:
		v.directive(v.cur, *d)
	}
}

// open checks a section's header and starts reading the section, unless its kind is refused
// as a whole.
func (v *validator) open(s *haproxy.Section) {
	switch s.Kind {
	case haproxy.NoSection:
		return
	case haproxy.Listen:
		v.add(s.Line, RuleListenSection, "listen %s: listen sections are not allowed; write a frontend and a backend", s.Name)
		return
	case haproxy.HTTPErrors:
		v.add(s.Line, RuleErrorPage, "http-errors %s: http-errors sections make haproxy answer with pages of its own", s.Name)
		return
	case haproxy.Global, haproxy.Defaults, haproxy.Frontend, haproxy.Backend:
	default:
		v.add(s.Line, RuleSectionKind, "%s section: only global, defaults, frontend and backend sections are allowed", s.Kind)
		return
	}
	v.header(s)
	v.cur, v.spare = newSection(s, v.spare), nil
}

// close ends the section being read and files it for the checks that span sections.
func (v *validator) close() {
	sec := v.cur
	if sec == nil {
		return
	}
	v.cur = nil
	kept := false
	switch sec.s.Kind {
	case haproxy.Defaults:
		v.endDefaults(sec)
		kept = true
	case haproxy.Frontend:
		kept = v.endProxy(sec, v.frontends)
		kept = v.endFrontend(sec) || kept
		sec.acls, sec.denies, sec.pathDeny = nil, nil, nil // only routing looks at it again
	case haproxy.Backend:
		kept = v.endProxy(sec, v.backends)
	}
	if !kept {
		v.spare = sec
	}
}

// dotDirective reports a conditional, message or scope line and returns true for any line that is
// not an ordinary statement.
func (v *validator) dotDirective(d haproxy.Directive) bool {
	switch d.Kind {
	case haproxy.Statement:
		return false
	case haproxy.UnknownDot:
		return true // the parser reported it
	case haproxy.Scope:
		v.add(d.Line, RuleDotDirective, "scope line %s is not allowed", d.Keyword)
	default:
		v.add(d.Line, RuleDotDirective, "%s: conditional blocks and messages are not allowed; every line must apply unconditionally", d.Keyword)
	}
	return true
}

// endDefaults resolves the mode a defaults section passes on and files it.
func (v *validator) endDefaults(sec *section) {
	if sec.s.From != "" {
		if from, ok := v.named[sec.s.From]; ok {
			from.explicit = true
			if sec.mode == "" {
				sec.mode, sec.modeLine = from.mode, from.modeLine
			}
		} else {
			v.add(sec.s.Line, RuleDefaultsFrom, "defaults %s: from %s names no defaults section above", sec.s.Name, sec.s.From)
		}
	}
	if sec.s.Name != "" {
		if prev, ok := v.named[sec.s.Name]; ok {
			v.add(sec.s.Line, RuleDuplicateName, "defaults %s is already defined at line %d", sec.s.Name, prev.s.Line)
		} else {
			v.named[sec.s.Name] = sec
		}
	}
	v.lastDefaults = sec
}

// endProxy checks the mode of a frontend or backend and its name, and files it by name; it
// reports whether it kept sec (the first of its name).
func (v *validator) endProxy(sec *section, byName map[string]*section) (kept bool) {
	s := sec.s
	if prev, ok := byName[s.Name]; !ok {
		byName[s.Name], kept = sec, true
	} else if !v.counted(s.Line) {
		v.add(s.Line, RuleDuplicateName, "%s %s is already defined at line %d", s.Kind, s.Name, prev.s.Line)
	}
	var parent *section
	switch {
	case s.From != "":
		parent = v.named[s.From]
		if parent == nil {
			v.add(s.Line, RuleDefaultsFrom, "%s %s: from %s names no defaults section above", s.Kind, s.Name, s.From)
			return kept
		}
		parent.explicit = true
	default:
		parent = v.lastDefaults
		if parent != nil && parent.implicitLine == 0 {
			parent.implicitLine = s.Line
		}
	}
	if sec.mode != "" {
		return kept // a mode other than http is reported on its line
	}
	switch {
	case (parent == nil || parent.mode == "") && v.counted(s.Line):
	case parent == nil:
		v.add(s.Line, RuleModeHTTP, "%s %s has no mode http and no defaults section above it: haproxy runs it in tcp mode, which ignores http-request rules", s.Kind, s.Name)
	case parent.mode == "":
		v.add(s.Line, RuleModeHTTP, "%s %s has no mode http, nor has the defaults section at line %d it inherits: haproxy runs it in tcp mode, which ignores http-request rules", s.Kind, s.Name, parent.s.Line)
	}
	return kept
}

// defaultsUse reports a named defaults section that a proxy names with "from" and another
// inherits as the last defaults above it: HAProxy 2.6 raises an alert about the ambiguity, and
// the validator does not guess which defaults HAProxy applies.
func (v *validator) defaultsUse() {
	for _, d := range v.named {
		if d.explicit && d.implicitLine > 0 {
			v.add(d.implicitLine, RuleDefaultsFrom, "this section inherits defaults %s as the last defaults above it, and another section names it with from: haproxy 2.6 alerts on the ambiguity; add a defaults section after it, or use from everywhere", d.s.Name)
		}
	}
}

// lowerFirst lower-cases the first letter of s.
func lowerFirst(s string) string {
	if s != "" && 'A' <= s[0] && s[0] <= 'Z' {
		return strings.ToLower(s[:1]) + s[1:]
	}
	return s
}
