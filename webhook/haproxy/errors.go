package haproxy

import (
	"errors"
	"fmt"
	"strings"
)

// Each SyntaxError wraps exactly one of these, so callers can tell problems apart with errors.Is.
var (
	// ErrUnterminatedQuote: a single or double quote is never closed on its line.
	ErrUnterminatedQuote = errors.New("unterminated quote")
	// ErrInvalidEscape: a \x escape is not followed by two hexadecimal digits.
	ErrInvalidEscape = errors.New("invalid escape sequence")
	// ErrInvalidVariable: an environment variable reference inside double quotes is malformed
	// (bad first character, unmatched brace, bad [*] suffix, unknown $.NAME pseudo-variable).
	ErrInvalidVariable = errors.New("invalid environment variable reference")
	// ErrLineTooLong: a line is longer than MaxLineLength bytes.
	ErrLineTooLong = errors.New("line too long")
	// ErrTooManyWords: HAProxy splits a line into more than MaxWords words.
	ErrTooManyWords = errors.New("too many words")
	// ErrNUL: a line contains a NUL byte.
	ErrNUL = errors.New("nul byte")
	// ErrCarriageReturn: a carriage return appears elsewhere than right before a line feed.
	ErrCarriageReturn = errors.New("stray carriage return")
	// ErrInvalidScope: a "[name]" scope line is malformed.
	ErrInvalidScope = errors.New("invalid scope line")
	// ErrUnbalancedConditional: .if, .elif, .else and .endif do not nest properly.
	ErrUnbalancedConditional = errors.New("unbalanced conditional block")
	// ErrInvalidDirective: an unknown dot-directive, a .notice, .warning, .alert or .diag with
	// more than one argument, or an .else or .endif with an argument.
	ErrInvalidDirective = errors.New("invalid directive")
	// ErrInvalidSectionHeader: a section header has a missing name or arguments HAProxy does not
	// expect, or a section keyword is prefixed by "no" or "default".
	ErrInvalidSectionHeader = errors.New("invalid section header")
)

// SyntaxError is one problem found on one line of a configuration.
type SyntaxError struct {
	// Line is the 1-based line number.
	Line int
	// Col is the 1-based byte column of the offending character, or 0 when the problem is the
	// line as a whole.
	Col int
	// Err wraps one of the Err* sentinels of this package and says what is wrong.
	Err error
}

// Error returns "line N: message" or "line N, column C: message".
func (e *SyntaxError) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("line %d, column %d: %v", e.Line, e.Col, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

// Unwrap returns Err.
func (e *SyntaxError) Unwrap() error { return e.Err }

// ErrorList is every SyntaxError found in a configuration, in line order. Parse returns one
// when it finds at least one problem; it is never empty.
type ErrorList []*SyntaxError

// Error returns every error, one per line.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the errors of the list, so that errors.Is and errors.As look at each of them.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// syntaxError returns a SyntaxError that wraps sentinel with a detail message. The message is
// formatted when it is read, so that errors Parse counts but does not return cost little.
func syntaxError(line, col int, sentinel error, format string, args ...any) *SyntaxError {
	return &SyntaxError{Line: line, Col: col, Err: &detailError{sentinel: sentinel, format: format, args: args}}
}

// detailError is a sentinel and a detail message, "sentinel: detail".
type detailError struct {
	sentinel error
	format   string
	args     []any
}

func (e *detailError) Error() string {
	return e.sentinel.Error() + ": " + fmt.Sprintf(e.format, e.args...)
}

func (e *detailError) Unwrap() error { return e.sentinel }
