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
}

// Parse splits an HAProxy configuration into sections and directives. It neither evaluates
// conditions nor expands environment variables, and it knows no keyword besides the section
// keywords and the dot-directives.
//
// Parse always returns a Config. When it finds problems it also returns an ErrorList, in line
// order. A line that cannot be split into words (quote, escape, variable syntax, length, word
// count, NUL, carriage return, scope syntax) is left out of the Config, much as HAProxy skips
// it; a line that splits but is misplaced or malformed (conditional nesting, section header
// shape, unknown dot-directive, message arguments) is kept, a section header still opening its
// section.
func Parse(src []byte) (*Config, error) {
	p := parser{cfg: &Config{}}
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
	p.errs = append(p.errs, p.conds.unterminated()...)
	if len(p.errs) == 0 {
		return p.cfg, nil
	}
	slices.SortStableFunc(p.errs, func(a, b *SyntaxError) int { return cmp.Compare(a.Line, b.Line) })
	return p.cfg, ErrorList(p.errs)
}

// parser holds the state of one Parse call.
type parser struct {
	cfg   *Config
	cur   *Section
	conds condStack
	errs  []*SyntaxError
	lx    lexer
	arena []Word // backing store for the Args of many directives, to allocate less often
}

// line handles one line, without its terminator.
func (p *parser) line(n int, line string) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		p.fail(syntaxError(n, i+1, ErrNUL, "the configuration must be text"))
		return
	}
	if i := strings.IndexByte(line, '\r'); i >= 0 {
		p.fail(syntaxError(n, i+1, ErrCarriageReturn,
			"haproxy would ignore the rest of the line; only a line feed may follow a carriage return"))
		return
	}
	if len(line) > MaxLineLength {
		p.fail(syntaxError(n, 0, ErrLineTooLong, "%d bytes, more than the %d this parser accepts", len(line), MaxLineLength))
		return
	}
	if i := skipBlanks(line, 0); i < len(line) && line[i] == '[' {
		p.scope(n, line, i)
		return
	}
	words, nargs, lerr := p.lx.lex(line)
	if lerr != nil {
		p.fail(lerr.at(n))
		return
	}
	if nargs > MaxWords {
		p.fail(syntaxError(n, 0, ErrTooManyWords, "haproxy reads more than %d words on this line", MaxWords))
		return
	}
	if len(words) == 0 {
		return
	}
	d := Directive{Kind: classify(words[0].Value), Keyword: words[0].Value, Line: n, Raw: line}
	if len(words) > 1 {
		d.Args = p.keep(words[1:])
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
		if kind, ok := sectionKinds[d.Keyword]; ok {
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
	p.cur = &Section{Kind: kind, Name: name, From: from, Line: h.Line, Header: h}
	p.cfg.Sections = append(p.cfg.Sections, p.cur)
}

// add appends d to the current section, opening the NoSection one if needed.
func (p *parser) add(d Directive) {
	if p.cur == nil {
		p.cur = &Section{Kind: NoSection, Line: d.Line}
		p.cfg.Sections = append(p.cfg.Sections, p.cur)
	}
	p.cur.Directives = append(p.cur.Directives, d)
}

// keep copies ws into the arena and returns the copy, whose capacity ends with it.
func (p *parser) keep(ws []Word) []Word {
	if len(ws) > cap(p.arena)-len(p.arena) {
		p.arena = make([]Word, 0, max(1024, len(ws)))
	}
	n := len(p.arena)
	p.arena = append(p.arena, ws...)
	return p.arena[n:len(p.arena):len(p.arena)]
}

// fail records err unless it is nil.
func (p *parser) fail(err *SyntaxError) {
	if err != nil {
		p.errs = append(p.errs, err)
	}
}
