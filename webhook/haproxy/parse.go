package haproxy

import (
	"cmp"
	"slices"
	"strings"
)

const (
	// MaxLineLength is the longest line, in bytes without its terminator, that Parse accepts.
	// It is HAProxy's LINESIZE (2048), which HAProxy 2.6 only uses as its initial buffer size:
	// HAProxy itself accepts longer lines. The limit is this parser's own.
	MaxLineLength = 2048
	// MaxWords is the most words HAProxy 2.6 accepts on one line (MAX_LINE_ARGS). Like HAProxy,
	// Parse counts blanks after the last word as the start of one more word, so a line of 64
	// words followed by a blank or a comment is refused too.
	MaxWords = 64
	// MaxErrors is the most SyntaxErrors Parse returns: the first ones it finds. It counts the
	// others in Config.OmittedErrors, so that a hostile file costs no more than a bad one.
	MaxErrors = 100
)

// Config is a parsed configuration file.
type Config struct {
	// Sections are the sections in file order, a NoSection one first if directives precede
	// the first section header.
	Sections []*Section
	// Lines is the number of lines in the file, the last one counted even without a final
	// line feed.
	Lines int
	// MissingFinalNewline reports that the file does not end with a line feed. HAProxy 2.6
	// refuses such a file ("Missing LF on last line"); Parse reads it and leaves the verdict to
	// the caller.
	MissingFinalNewline bool
	// OmittedErrors is how many problems Parse found beyond the MaxErrors it returns.
	OmittedErrors int
}

// Parse splits an HAProxy configuration into sections and directives. It neither evaluates
// conditions nor expands environment variables, and it knows no keyword besides the section
// keywords and the dot-directives.
//
// Parse always returns a Config. When it finds problems it also returns an ErrorList, in line
// order, of at most MaxErrors errors (the first found; Config.OmittedErrors counts the others).
// A line that cannot be split into words (quote, escape, variable syntax, length, word count,
// NUL, carriage return, scope syntax) is left out of the Config, much as HAProxy skips it; a
// line that splits but is misplaced or malformed (conditional nesting, section header shape,
// unknown dot-directive, message arguments) is kept, a section header still opening its section.
func Parse(src []byte) (*Config, error) {
	var c collector
	cfg, err := Walk(src, c.visit)
	cfg.Sections = c.sections
	return cfg, err
}

// Walk reads src exactly as Parse does but keeps no directive: it hands each one to visit as
// it reads it, so that its memory does not grow with the number of lines. visit(s, nil) says
// that section s opens (directives before the first header open a NoSection section); then
// visit(s, d) comes for each directive of s, in order, s's Directives staying empty. s, d and
// their Args are valid only during the call: copy what you keep (the strings stay valid). Walk
// returns a Config without Sections and the errors Parse would return.
func Walk(src []byte, visit func(s *Section, d *Directive)) (*Config, error) {
	p := parser{cfg: &Config{}, visit: visit}
	text := string(src)
	for n := 1; len(text) > 0; n++ {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
			p.cfg.MissingFinalNewline = true
		}
		p.cfg.Lines = n
		p.line(n, strings.TrimSuffix(line, "\r"))
	}
	for _, f := range p.conds.frames {
		if !p.counted() {
			p.fail(syntaxError(f.line, 0, ErrUnbalancedConditional, ".if block is never closed by .endif"))
		}
	}
	if len(p.errs) == 0 {
		return p.cfg, nil
	}
	slices.SortStableFunc(p.errs, func(a, b *SyntaxError) int { return cmp.Compare(a.Line, b.Line) })
	return p.cfg, ErrorList(p.errs)
}

// collector keeps what Walk hands over, for Parse.
type collector struct {
	sections []*Section
	cur      *Section // the copy of the section being read
	arena    []Word   // backing store for the Args of many directives, to allocate less often
}

func (c *collector) visit(s *Section, d *Directive) {
	if d == nil {
		kept := *s
		kept.Header.Args = c.keep(s.Header.Args)
		c.cur = &kept
		c.sections = append(c.sections, c.cur)
		return
	}
	kept := *d
	kept.Args = c.keep(d.Args)
	c.cur.Directives = append(c.cur.Directives, kept)
}

// keep copies ws into the arena and returns the copy, whose capacity ends with it; nil for none.
func (c *collector) keep(ws []Word) []Word {
	if len(ws) == 0 {
		return nil
	}
	if len(ws) > cap(c.arena)-len(c.arena) {
		c.arena = make([]Word, 0, max(1024, len(ws)))
	}
	n := len(c.arena)
	c.arena = append(c.arena, ws...)
	return c.arena[n:len(c.arena):len(c.arena)]
}

// parser holds the state of one Walk call.
type parser struct {
	cfg   *Config
	visit func(*Section, *Directive)
	cur   *Section
	conds condStack
	errs  []*SyntaxError
	lx    lexer
	d     Directive // the directive handed to visit
	sec   Section   // the section handed to visit, reused from section to section
}

// line handles one line, without its terminator.
func (p *parser) line(n int, line string) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		if !p.counted() {
			p.fail(syntaxError(n, i+1, ErrNUL, "the configuration must be text"))
		}
		return
	}
	if i := strings.IndexByte(line, '\r'); i >= 0 {
		if !p.counted() {
			p.fail(syntaxError(n, i+1, ErrCarriageReturn,
				"haproxy would ignore the rest of the line; only a line feed may follow a carriage return"))
		}
		return
	}
	if len(line) > MaxLineLength {
		if !p.counted() {
			p.fail(syntaxError(n, 0, ErrLineTooLong, "%d bytes, more than the %d this parser accepts", len(line), MaxLineLength))
		}
		return
	}
	if i := skipBlanks(line, 0); i < len(line) && line[i] == '[' {
		p.scope(n, line, i)
		return
	}
	words, nargs, lerr := p.lx.lex(line)
	if lerr != nil {
		if !p.counted() {
			p.fail(lerr.at(n))
		}
		return
	}
	if nargs > MaxWords {
		if !p.counted() {
			p.fail(syntaxError(n, 0, ErrTooManyWords, "haproxy reads more than %d words on this line", MaxWords))
		}
		return
	}
	if len(words) == 0 {
		return
	}
	d := Directive{Kind: classify(words[0].Value), Keyword: words[0].Value, Line: n, Raw: line}
	if len(words) > 1 {
		d.Args = words[1:]
	}
	p.directive(d)
}

// scope handles a "[name]" line, '[' being at index i.
func (p *parser) scope(n int, line string, i int) {
	end := strings.IndexByte(line[i:], ']')
	if end <= 1 {
		p.fail(syntaxError(n, i+1, ErrInvalidScope, "empty or unclosed scope name"))
		return
	}
	end += i
	for j := i + 1; j < end; j++ {
		if c := line[j]; !isAlnum(c) && !strings.ContainsRune("._:-", rune(c)) {
			p.fail(syntaxError(n, j+1, ErrInvalidScope, "character %q is not allowed in a scope name", c))
			return
		}
	}
	if k := skipBlanks(line, end+1); k < len(line) && line[k] != '#' {
		p.fail(syntaxError(n, k+1, ErrInvalidScope, "only a comment may follow a scope declaration"))
		return
	}
	p.add(Directive{Kind: Scope, Keyword: line[i : end+1], Line: n, Raw: line})
}

// directive files d into the current section, or opens a new section.
func (p *parser) directive(d Directive) {
	switch d.Kind {
	case Conditional:
		p.fail(p.conds.step(d))
	case Message:
		if len(d.Args) > 1 {
			p.fail(syntaxError(d.Line, d.Args[1].Col, ErrInvalidDirective,
				"%s takes one argument; quote a message that has blanks", d.Keyword))
		}
	case UnknownDot:
		p.fail(syntaxError(d.Line, 0, ErrInvalidDirective, "unknown directive %q", d.Keyword))
	case Statement:
		if kind, ok := sectionKind(d.Keyword); ok {
			p.open(kind, d)
			return
		}
		if (d.Keyword == "no" || d.Keyword == "default") && len(d.Args) > 0 && IsSectionKeyword(d.Args[0].Value) {
			p.fail(syntaxError(d.Line, 0, ErrInvalidSectionHeader, "%q cannot prefix the section keyword %q", d.Keyword, d.Args[0].Value))
		}
	}
	p.add(d)
}

// open starts a section with header h.
func (p *parser) open(kind SectionKind, h Directive) {
	name, from, err := parseHeader(kind, h)
	p.fail(err)
	p.sec = Section{Kind: kind, Name: name, From: from, Line: h.Line, Header: h}
	p.cur = &p.sec
	p.visit(p.cur, nil)
}

// add appends d to the current section, opening the NoSection one if needed.
func (p *parser) add(d Directive) {
	if p.cur == nil {
		p.sec = Section{Kind: NoSection, Line: d.Line}
		p.cur = &p.sec
		p.visit(p.cur, nil)
	}
	p.d = d // a field, not a local whose address would escape at every line
	p.visit(p.cur, &p.d)
}

// counted reports that MaxErrors errors are kept already, and then counts one more: the caller
// need not build it.
func (p *parser) counted() bool {
	if len(p.errs) < MaxErrors {
		return false
	}
	p.cfg.OmittedErrors++
	return true
}

// fail records err unless it is nil, up to MaxErrors errors; it counts the others.
func (p *parser) fail(err *SyntaxError) {
	switch {
	case err == nil:
	case len(p.errs) >= MaxErrors:
		p.cfg.OmittedErrors++
	default:
		p.errs = append(p.errs, err)
	}
}
