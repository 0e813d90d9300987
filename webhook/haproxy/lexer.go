package haproxy

// Word is one word of a configuration line, split as HAProxy 2.6 splits it.
type Word struct {
	// Raw is the word exactly as written, quotes and backslashes included.
	Raw string
	// Value is the word as HAProxy hands it to a keyword parser: quotes removed and escapes
	// resolved, except that environment variable references are not expanded. A reference inside
	// double quotes stays exactly as written ("${NODE_IP}" gives ${NODE_IP}, "${X-def}" gives
	// ${X-def}); a '$' outside quotes is an ordinary character for the tokenizer anyway.
	// A \x00 escape puts a NUL byte in Value; HAProxy, written in C, stops reading the word there.
	Value string
	// Col is the 1-based byte column where the word starts on its line.
	Col int
	// Quoted reports whether any part of the word was inside single or double quotes.
	Quoted bool
	// SingleQuoted reports whether any part of the word was inside single quotes.
	SingleQuoted bool
	// HasVar reports whether the word references an environment variable outside single quotes:
	// a well-formed reference inside double quotes, which the tokenizer expands, or any '$'
	// outside quotes, which the keyword parsers that read addresses expand (bind, server, ...).
	// Beware that those address parsers expand a '$' of Value whatever the quoting: '${NODE_IP}'
	// and "\${NODE_IP}" bind to NODE_IP just like ${NODE_IP}. Look at Value, not only HasVar.
	HasVar bool
}

// lexer splits one line at a time into words; its buffers are reused from line to line. A line
// has no terminator, no NUL and no carriage return.
type lexer struct {
	line string
	pos  int

	words []Word
	nargs int // words as HAProxy counts them: a trailing blank opens one more (empty) word

	// the word being built
	cur       Word
	start     int
	buf       []byte
	rewritten bool // Value may differ from Raw
	squote    bool
	dquote    bool
	quoteCol  int // column of the quote that opened the current quoted part

	err lexError // the last problem found
}

// lexError is a problem at a 1-based column of the line, with at most one argument for its
// format. The lexer keeps one and reuses it, so that a line that does not split costs no
// allocation until the error is turned into a SyntaxError.
type lexError struct {
	col      int
	sentinel error
	format   string
	arg      any // nil: the format takes no argument
}

func (e *lexError) at(line int) *SyntaxError {
	if e.arg == nil {
		return syntaxError(line, e.col, e.sentinel, e.format)
	}
	return syntaxError(line, e.col, e.sentinel, e.format, e.arg)
}

// fail records a problem in the lexer's lexError and returns it; valid until the next line.
func (lx *lexer) fail(col int, sentinel error, format string, arg any) *lexError {
	lx.err = lexError{col: col, sentinel: sentinel, format: format, arg: arg}
	return &lx.err
}

// isBlank reports whether c separates words. It is C isspace() in the C locale without '\n'
// and '\r', which end a line before the tokenizer sees them.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\v' || c == '\f'
}

func skipBlanks(s string, i int) int {
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return i
}

// lexLine splits line into words with a fresh lexer.
func lexLine(line string) ([]Word, int, *lexError) {
	var lx lexer
	return lx.lex(line)
}

// lex splits line into words following HAProxy 2.6's parse_line() with the options its
// configuration reader uses: '#' comments, backslash escapes, single and double quotes, and
// environment variables inside double quotes (recorded, not expanded). It also returns the
// number of words HAProxy counts (see MaxWords). The words are valid until the next call.
func (lx *lexer) lex(line string) ([]Word, int, *lexError) {
	lx.line, lx.pos, lx.nargs = line, skipBlanks(line, 0), 1
	lx.words = lx.words[:0]
	lx.squote, lx.dquote = false, false
	lx.begin()
	for lx.pos < len(line) {
		c := line[lx.pos]
		switch {
		case c == '#' && !lx.squote && !lx.dquote:
			return lx.end()
		case c == '"' && !lx.squote:
			lx.dquote = !lx.dquote
			lx.quote()
		case c == '\'' && !lx.dquote:
			lx.squote = !lx.squote
			lx.cur.SingleQuoted = true
			lx.quote()
		case c == '\\' && !lx.squote:
			if err := lx.escape(); err != nil {
				return nil, 0, err
			}
		case isBlank(c) && !lx.squote && !lx.dquote:
			lx.finish()
			lx.pos = skipBlanks(line, lx.pos)
			lx.nargs++
			lx.begin()
		case c == '$' && lx.dquote:
			if err := lx.variable(); err != nil {
				return nil, 0, err
			}
		default:
			if c == '$' && !lx.squote {
				lx.cur.HasVar = true
			}
			lx.buf = append(lx.buf, c)
			lx.pos++
		}
	}
	return lx.end()
}

// end closes the line: an open quote is an error, otherwise the last word is kept.
func (lx *lexer) end() ([]Word, int, *lexError) {
	if lx.squote || lx.dquote {
		return nil, 0, lx.fail(lx.quoteCol, ErrUnterminatedQuote, "the quote opened at column %d is not closed on this line", lx.quoteCol)
	}
	lx.finish()
	return lx.words, lx.nargs, nil
}

// quote records a quote character that opened or closed a quoted part.
func (lx *lexer) quote() {
	if lx.squote || lx.dquote {
		lx.quoteCol = lx.pos + 1
	}
	lx.cur.Quoted = true
	lx.rewritten = true
	lx.pos++
}

// begin starts a word at the current position.
func (lx *lexer) begin() {
	lx.cur = Word{Col: lx.pos + 1}
	lx.start = lx.pos
	lx.buf = lx.buf[:0]
	lx.rewritten = false
}

// finish keeps the current word if anything was written for it.
func (lx *lexer) finish() {
	if lx.pos == lx.start {
		return
	}
	lx.cur.Raw = lx.line[lx.start:lx.pos]
	if lx.rewritten {
		lx.cur.Value = string(lx.buf)
	} else {
		lx.cur.Value = lx.cur.Raw
	}
	lx.words = append(lx.words, lx.cur)
}

// escape handles a backslash outside single quotes. Only \<space>, \\, \t, \n, \r, \#, \', \",
// \xHH and, inside double quotes, \$ are escapes; any other backslash is kept as is.
func (lx *lexer) escape() *lexError {
	lx.rewritten = true
	var next byte
	if lx.pos+1 < len(lx.line) {
		next = lx.line[lx.pos+1]
	}
	switch next {
	case ' ', '\\', '#', '\'', '"':
		lx.buf = append(lx.buf, next)
	case 't':
		lx.buf = append(lx.buf, '\t')
	case 'n':
		lx.buf = append(lx.buf, '\n')
	case 'r':
		lx.buf = append(lx.buf, '\r')
	case '$':
		if !lx.dquote {
			// Outside double quotes "\$" is two ordinary characters.
			lx.buf = append(lx.buf, '\\')
			lx.pos++
			return nil
		}
		lx.buf = append(lx.buf, '$')
	case 'x':
		if lx.pos+3 >= len(lx.line) || !isHex(lx.line[lx.pos+2]) || !isHex(lx.line[lx.pos+3]) {
			return lx.fail(lx.pos+1, ErrInvalidEscape, `\x must be followed by two hexadecimal digits`, nil)
		}
		lx.buf = append(lx.buf, unhex(lx.line[lx.pos+2])<<4|unhex(lx.line[lx.pos+3]))
		lx.pos += 4
		return nil
	default:
		// Not an escape sequence (a regex's \., \1, or a backslash ending the line).
		lx.buf = append(lx.buf, '\\')
		lx.pos++
		return nil
	}
	lx.pos += 2
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}
