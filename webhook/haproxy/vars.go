package haproxy

// Inside double quotes HAProxy 2.6 expands environment variables while it splits the line:
//
//	$NAME  ${NAME}  ${NAME-default}  ${NAME[*]}  ${NAME[*]-default}
//
// NAME starts with a letter or '_' and goes on with letters, digits and '_'; $.LINE, $.FILE and
// $.SECTION (also in braces) are pseudo-variables. "[*]" splits the value into several words.
// The default runs up to the first '}' whatever it contains, quotes and '#' included.
// The parser checks this syntax like HAProxy does, and copies the reference verbatim into Value.

// pseudoVars are the internal variables HAProxy 2.6 knows.
var pseudoVars = map[string]bool{".LINE": true, ".FILE": true, ".SECTION": true}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isAlnum(c byte) bool { return isAlpha(c) || '0' <= c && c <= '9' }

// variable reads a '$' reference inside double quotes, lx.pos being at the '$'.
func (lx *lexer) variable() *lexError {
	line := lx.line
	start := lx.pos
	p := start + 1
	brace := -1
	if p < len(line) && line[p] == '{' {
		brace = p
		p++
	}
	if p >= len(line) || !(isAlpha(line[p]) || line[p] == '_' || line[p] == '.') {
		return lx.fail(p+1, ErrInvalidVariable, "a variable name must start with a letter or '_'", nil)
	}
	nameStart := p
	if line[p] == '.' {
		p++
	}
	for p < len(line) && (isAlnum(line[p]) || line[p] == '_') {
		p++
	}
	if name := line[nameStart:p]; name[0] == '.' && !pseudoVars[name] {
		return lx.fail(nameStart+1, ErrInvalidVariable, "unknown pseudo-variable %q (only .LINE, .FILE and .SECTION exist)", name)
	}
	if brace >= 0 {
		if p < len(line) && line[p] == '[' {
			if p+2 >= len(line) || line[p+1] != '*' || line[p+2] != ']' {
				return lx.fail(p+1, ErrInvalidVariable, "the only suffix allowed after a variable name is [*]", nil)
			}
			p += 3
		}
		switch {
		case p < len(line) && line[p] == '-':
			for p < len(line) && line[p] != '}' {
				p++
			}
			if p >= len(line) {
				return lx.fail(brace+1, ErrInvalidVariable, "the brace opened at column %d is not closed", brace+1)
			}
		case p >= len(line) || line[p] != '}':
			return lx.fail(brace+1, ErrInvalidVariable, "the brace opened at column %d is not closed right after the variable name", brace+1)
		}
		p++ // the closing brace
	}
	lx.buf = append(lx.buf, line[start:p]...)
	lx.cur.HasVar = true
	lx.pos = p
	return nil
}
