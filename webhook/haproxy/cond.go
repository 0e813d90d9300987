package haproxy

// maxCondDepth is the deepest .if nesting HAProxy 2.6 accepts (MAXNESTEDCONDS is 100 and the
// 100th level is refused).
const maxCondDepth = 99

// condFrame is one open .if block.
type condFrame struct {
	line    int  // line of the .if
	sawElse bool // an .else was seen: no .elif or .else may follow
}

// condStack checks that conditional directives nest the way HAProxy requires, without
// evaluating them.
type condStack struct {
	frames []condFrame
}

// step takes one Conditional directive and returns the problem it raises, if any.
func (s *condStack) step(d Directive) *SyntaxError {
	switch d.Keyword {
	case ".if":
		s.frames = append(s.frames, condFrame{line: d.Line})
		if len(s.frames) > maxCondDepth {
			return syntaxError(d.Line, 0, ErrUnbalancedConditional, ".if blocks nest deeper than %d levels", maxCondDepth)
		}
		return nil
	case ".elif":
		top := s.top()
		if top == nil {
			return syntaxError(d.Line, 0, ErrUnbalancedConditional, ".elif without a matching .if")
		}
		if top.sawElse {
			return syntaxError(d.Line, 0, ErrUnbalancedConditional, ".elif after .else (.if at line %d)", top.line)
		}
		return nil
	case ".else":
		top := s.top()
		switch {
		case top == nil:
			return syntaxError(d.Line, 0, ErrUnbalancedConditional, ".else without a matching .if")
		case top.sawElse:
			return syntaxError(d.Line, 0, ErrUnbalancedConditional, "second .else (.if at line %d)", top.line)
		}
		top.sawElse = true
		return noArgs(d)
	default: // .endif
		if s.top() == nil {
			return syntaxError(d.Line, 0, ErrUnbalancedConditional, ".endif without a matching .if")
		}
		s.frames = s.frames[:len(s.frames)-1]
		return noArgs(d)
	}
}

func (s *condStack) top() *condFrame {
	if len(s.frames) == 0 {
		return nil
	}
	return &s.frames[len(s.frames)-1]
}

// noArgs reports an argument after .else or .endif.
func noArgs(d Directive) *SyntaxError {
	if len(d.Args) == 0 {
		return nil
	}
	return syntaxError(d.Line, d.Args[0].Col, ErrInvalidDirective, "%s takes no argument", d.Keyword)
}
