package haproxy

import "strings"

// DirectiveKind tells ordinary keyword lines from the lines HAProxy handles before any section
// sees them.
type DirectiveKind int

const (
	// Statement is an ordinary line: a keyword and its arguments, section headers included.
	Statement DirectiveKind = iota
	// Conditional is .if, .elif, .else or .endif. The parser checks that they nest; it does not
	// evaluate them, so the directives they enclose are all kept.
	Conditional
	// Message is .notice, .warning, .alert or .diag.
	Message
	// UnknownDot is any other first word that starts with '.'; HAProxy rejects it unless a
	// condition masks it, and the parser reports it as an error.
	UnknownDot
	// Scope is a "[name]" line, which HAProxy reads as a scope declaration (SPOE files use it)
	// without splitting it into words. Its Keyword is the bracketed text, e.g. "[name]".
	Scope
)

var directiveKindNames = [...]string{"statement", "conditional", "message", "unknown-dot", "scope"}

// String returns the kind's lower-case name.
func (k DirectiveKind) String() string {
	if k >= 0 && int(k) < len(directiveKindNames) {
		return directiveKindNames[k]
	}
	return "unknown"
}

// Directive is one non-blank, non-comment line.
type Directive struct {
	// Kind says how HAProxy treats the line.
	Kind DirectiveKind
	// Keyword is the Value of the first word (".if" for a condition, "[name]" for a scope).
	// It can be empty when the first word is an empty quoted string, a line HAProxy ignores.
	Keyword string
	// Args are the words after the keyword; nil when there are none.
	Args []Word
	// Line is the 1-based line number.
	Line int
	// Raw is the whole line as written, without its line terminator.
	Raw string
}

// Words returns the values of the keyword and of every argument, in order: what HAProxy passes
// to a keyword parser as args[0], args[1], ...
func (d Directive) Words() []string {
	words := make([]string, 0, 1+len(d.Args))
	words = append(words, d.Keyword)
	for _, a := range d.Args {
		words = append(words, a.Value)
	}
	return words
}

// classify returns the kind of a line whose first word's value is keyword.
func classify(keyword string) DirectiveKind {
	if !strings.HasPrefix(keyword, ".") {
		return Statement
	}
	switch keyword {
	case ".if", ".elif", ".else", ".endif":
		return Conditional
	case ".notice", ".warning", ".alert", ".diag":
		return Message
	default:
		return UnknownDot
	}
}
