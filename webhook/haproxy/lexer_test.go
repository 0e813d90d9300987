package haproxy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// word flags for the tables below.
const (
	q  = 1 << iota // Quoted
	sq             // SingleQuoted (implies Quoted in the tables)
	hv             // HasVar
)

type wantWord struct {
	raw, value string
	flags      int
}

func (w wantWord) word() Word {
	return Word{Raw: w.raw, Value: w.value, Quoted: w.flags&(q|sq) != 0, SingleQuoted: w.flags&sq != 0, HasVar: w.flags&hv != 0}
}

func stripCols(ws []Word) []Word {
	if len(ws) == 0 {
		return nil
	}
	out := make([]Word, len(ws))
	for i, w := range ws {
		w.Col = 0
		out[i] = w
	}
	return out
}

func TestLexLineWords(t *testing.T) {
	tests := []struct {
		name string
		line string
		want []wantWord
	}{
		{"blanks separate words", "a  b\tc\vd\fe", []wantWord{{"a", "a", 0}, {"b", "b", 0}, {"c", "c", 0}, {"d", "d", 0}, {"e", "e", 0}}},
		{"leading and trailing blanks", " \t bind x \t", []wantWord{{"bind", "bind", 0}, {"x", "x", 0}}},
		{"empty line", "", nil},
		{"blank line", " \t ", nil},
		{"comment line", "  # bind 0.0.0.0:80", nil},
		{"comment after words", "a b # c", []wantWord{{"a", "a", 0}, {"b", "b", 0}}},
		{"comment inside a word", "foo#bar baz", []wantWord{{"foo", "foo", 0}}},
		{"hash in double quotes", `"a#b"`, []wantWord{{`"a#b"`, "a#b", q}}},
		{"hash in single quotes", `'a#b'`, []wantWord{{`'a#b'`, "a#b", sq}}},
		{"escaped space", `a\ b c`, []wantWord{{`a\ b`, "a b", 0}, {"c", "c", 0}}},
		{"escaped hash", `a\#b`, []wantWord{{`a\#b`, "a#b", 0}}},
		{"escaped backslash", `a\\b`, []wantWord{{`a\\b`, `a\b`, 0}}},
		{"escaped double quote", `a\"b`, []wantWord{{`a\"b`, `a"b`, 0}}},
		{"escaped single quote", `a\'b`, []wantWord{{`a\'b`, `a'b`, 0}}},
		{"hex escapes", `\x41\x6a\x7E`, []wantWord{{`\x41\x6a\x7E`, "Aj~", 0}}},
		{"control escapes", `\t\n\r`, []wantWord{{`\t\n\r`, "\t\n\r", 0}}},
		{"other backslashes stay", `^/a\.b\1\`, []wantWord{{`^/a\.b\1\`, `^/a\.b\1\`, 0}}},
		{"backslash before a tab stays", "a\\\tb", []wantWord{{`a\`, `a\`, 0}, {"b", "b", 0}}},
		{"escapes work in double quotes", `"a\x41\"\\b"`, []wantWord{{`"a\x41\"\\b"`, `aA"\b`, q}}},
		{"escaped single quote in double quotes", `"\'"`, []wantWord{{`"\'"`, `'`, q}}},
		{"single quotes are literal", `'a\x41\$"b'`, []wantWord{{`'a\x41\$"b'`, `a\x41\$"b`, sq}}},
		{"backslash ends nothing in single quotes", `'\'`, []wantWord{{`'\'`, `\`, sq}}},
		{"quotes concatenate", `a""b''c"d"'e'`, []wantWord{{`a""b''c"d"'e'`, "abcde", sq}}},
		{"empty double-quoted word", `x "" y`, []wantWord{{"x", "x", 0}, {`""`, "", q}, {"y", "y", 0}}},
		{"empty single-quoted word", `''`, []wantWord{{`''`, "", sq}}},
		{"blanks in quotes", `"a b" 'c	d'`, []wantWord{{`"a b"`, "a b", q}, {`'c	d'`, "c\td", sq}}},
		{"quotes of the other kind", `"it's" 'say "hi"'`, []wantWord{{`"it's"`, "it's", q}, {`'say "hi"'`, `say "hi"`, sq}}},
		{"unquoted variable", `${NODE_IP}:10249`, []wantWord{{`${NODE_IP}:10249`, `${NODE_IP}:10249`, hv}}},
		{"double-quoted variable", `"${NODE_IP}":10249`, []wantWord{{`"${NODE_IP}":10249`, `${NODE_IP}:10249`, q | hv}}},
		{"single-quoted variable", `'${NODE_IP}':10249`, []wantWord{{`'${NODE_IP}':10249`, `${NODE_IP}:10249`, sq}}},
		{"escaped dollar in double quotes", `"\${NODE_IP}":10249`, []wantWord{{`"\${NODE_IP}":10249`, `${NODE_IP}:10249`, q}}},
		{"escaped dollar outside quotes stays", `\$X`, []wantWord{{`\$X`, `\$X`, hv}}},
		{"dollar outside quotes", `^/metrics$`, []wantWord{{`^/metrics$`, `^/metrics$`, hv}}},
		{"bare variable in double quotes", `"$NODE_IP.x"`, []wantWord{{`"$NODE_IP.x"`, `$NODE_IP.x`, q | hv}}},
		{"variable with default", `"${X-def ault}"`, []wantWord{{`"${X-def ault}"`, `${X-def ault}`, q | hv}}},
		{"default runs to the brace", `"${X-a"b #c}"`, []wantWord{{`"${X-a"b #c}"`, `${X-a"b #c}`, q | hv}}},
		{"word expansion", `"${X[*]}" "${X[*]-d}"`, []wantWord{{`"${X[*]}"`, `${X[*]}`, q | hv}, {`"${X[*]-d}"`, `${X[*]-d}`, q | hv}}},
		{"brackets without braces", `"$X[1]"`, []wantWord{{`"$X[1]"`, `$X[1]`, q | hv}}},
		{"pseudo-variables", `"$.LINE" "${.FILE}" "${.SECTION}"`, []wantWord{{`"$.LINE"`, `$.LINE`, q | hv}, {`"${.FILE}"`, `${.FILE}`, q | hv}, {`"${.SECTION}"`, `${.SECTION}`, q | hv}}},
		{"non-ASCII bytes", "é\xff", []wantWord{{"é\xff", "é\xff", 0}}},
		{"seed deny rule", "  http-request deny if !{ path /metrics }", []wantWord{{"http-request", "http-request", 0}, {"deny", "deny", 0}, {"if", "if", 0}, {"!{", "!{", 0}, {"path", "path", 0}, {"/metrics", "/metrics", 0}, {"}", "}", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := lexLine(tt.line)
			require.Nil(t, err)
			var want []Word
			for _, w := range tt.want {
				want = append(want, w.word())
			}
			assert.Equal(t, want, stripCols(got))
		})
	}
}

func TestLexLineColumnsAndCount(t *testing.T) {
	words, nargs, err := lexLine("  bind\t\"a b\" c  ")
	require.Nil(t, err)
	require.Len(t, words, 3)
	assert.Equal(t, []int{3, 8, 14}, []int{words[0].Col, words[1].Col, words[2].Col})
	assert.Equal(t, 4, nargs, "a trailing blank opens one more word, as in HAProxy")

	_, nargs, err = lexLine("a b # c")
	require.Nil(t, err)
	assert.Equal(t, 3, nargs)

	_, nargs, err = lexLine("a b#c")
	require.Nil(t, err)
	assert.Equal(t, 2, nargs)
}

func TestLexLineErrors(t *testing.T) {
	tests := []struct {
		name string
		line string
		want error
		col  int
	}{
		{"unterminated double quote", `bind "abc`, ErrUnterminatedQuote, 6},
		{"unterminated single quote", `bind 'abc`, ErrUnterminatedQuote, 6},
		{"second quote unterminated", `"a" 'b`, ErrUnterminatedQuote, 5},
		{"hash does not end a quote", `"a # b`, ErrUnterminatedQuote, 1},
		{"single quote inside single quotes", `'\''`, ErrUnterminatedQuote, 4},
		{"bad hex digit", `a\xZ1`, ErrInvalidEscape, 2},
		{"truncated hex", `a\x4`, ErrInvalidEscape, 2},
		{"bad hex in double quotes", `"\xg0"`, ErrInvalidEscape, 2},
		{"digit starts a variable", `"$1"`, ErrInvalidVariable, 3},
		{"lone dollar in double quotes", `"$"`, ErrInvalidVariable, 3},
		{"dollar at the end of the line", `"$`, ErrInvalidVariable, 3},
		{"digit in braces", `"${1}"`, ErrInvalidVariable, 4},
		{"unclosed brace", `"${X"`, ErrInvalidVariable, 3},
		{"shell default syntax", `"${X:-d}"`, ErrInvalidVariable, 3},
		{"unclosed default", `"${X-abc"`, ErrInvalidVariable, 3},
		{"bad expansion suffix", `"${X[x]}"`, ErrInvalidVariable, 5},
		{"truncated expansion suffix", `"${X[*"`, ErrInvalidVariable, 5},
		{"unknown pseudo-variable", `"$.FOO"`, ErrInvalidVariable, 3},
		{"lone dot", `"${.}"`, ErrInvalidVariable, 4},
		{"escape error before quote error", `"a\x`, ErrInvalidEscape, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := lexLine(tt.line)
			require.NotNil(t, err)
			serr := err.at(7)
			require.ErrorIs(t, serr, tt.want)
			assert.Equal(t, 7, serr.Line)
			assert.Equal(t, tt.col, serr.Col, serr.Error())
		})
	}
}
