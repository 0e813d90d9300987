package haproxy_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

const seedPath = "../inject/testdata/seed-haproxy.cfg"

func readSeed(t testing.TB) []byte {
	t.Helper()
	src, err := os.ReadFile(seedPath)
	require.NoError(t, err)
	return src
}

// summary is a section in short: kind, name, header line and directive lines.
type summary struct {
	Kind  haproxy.SectionKind
	Name  string
	Line  int
	Lines []int
}

func summarize(cfg *haproxy.Config) []summary {
	var out []summary
	for _, s := range cfg.Sections {
		sum := summary{Kind: s.Kind, Name: s.Name, Line: s.Line}
		for _, d := range s.Directives {
			sum.Lines = append(sum.Lines, d.Line)
		}
		out = append(out, sum)
	}
	return out
}

func TestParseSeed(t *testing.T) {
	cfg, err := haproxy.Parse(readSeed(t))
	require.NoError(t, err)
	assert.Equal(t, 34, cfg.Lines)
	assert.False(t, cfg.MissingFinalNewline)
	// The seed has no global section: defaults, then a frontend and a backend per component.
	assert.Equal(t, []summary{
		{haproxy.Defaults, "", 1, []int{2, 3, 4, 5, 6}},
		{haproxy.Frontend, "kube-proxy", 8, []int{9, 10, 11}},
		{haproxy.Backend, "kube-proxy", 12, []int{13}},
		{haproxy.Frontend, "kube-controller-manager", 15, []int{16, 17, 18}},
		{haproxy.Backend, "kube-controller-manager", 19, []int{20}},
		{haproxy.Frontend, "kube-scheduler", 22, []int{23, 24, 25}},
		{haproxy.Backend, "kube-scheduler", 26, []int{27}},
		{haproxy.Frontend, "etcd", 29, []int{30, 31, 32}},
		{haproxy.Backend, "etcd", 33, []int{34}},
	}, summarize(cfg))

	fe := cfg.Sections[1]
	assert.Equal(t, "frontend kube-proxy", fe.Header.Raw)
	assert.Equal(t, []string{"frontend", "kube-proxy"}, fe.Header.Words())
	bind := fe.Directives[0]
	assert.Equal(t, haproxy.Statement, bind.Kind)
	assert.Equal(t, "bind", bind.Keyword)
	assert.Equal(t, "  bind ${NODE_IP}:10249", bind.Raw)
	require.Len(t, bind.Args, 1)
	assert.Equal(t, haproxy.Word{Raw: "${NODE_IP}:10249", Value: "${NODE_IP}:10249", Col: 8, HasVar: true}, bind.Args[0])
	assert.Equal(t, []string{"http-request", "deny", "if", "!{", "path", "/metrics", "}"}, fe.Directives[1].Words())
	assert.Equal(t, []string{"server", "kube-controller-manager", "127.0.0.1:10257", "ssl", "verify", "none", "check"},
		cfg.Sections[4].Directives[0].Words())
}

func TestParseSeedWithGlobalAndCRLF(t *testing.T) {
	src := "global\r\n  log stdout format raw local0\r\n\r\n" + strings.ReplaceAll(string(readSeed(t)), "\n", "\r\n")
	cfg, err := haproxy.Parse([]byte(src))
	require.NoError(t, err)
	require.Len(t, cfg.Sections, 10)
	assert.Equal(t, haproxy.Global, cfg.Sections[0].Kind)
	assert.Equal(t, []string{"log", "stdout", "format", "raw", "local0"}, cfg.Sections[0].Directives[0].Words())
	assert.Equal(t, "  log stdout format raw local0", cfg.Sections[0].Directives[0].Raw, "the CR of CRLF is not part of the line")
	assert.Equal(t, haproxy.Defaults, cfg.Sections[1].Kind)
	assert.Equal(t, 4, cfg.Sections[1].Line)
	assert.Equal(t, 11, cfg.Sections[2].Line)
	assert.Equal(t, "${NODE_IP}:10249", cfg.Sections[2].Directives[0].Args[0].Value)
}

func TestParseLines(t *testing.T) {
	tests := []struct {
		name        string
		src         string
		lines       int
		missingLF   bool
		directives  []int
		lastLineRaw string
	}{
		{"empty", "", 0, false, nil, ""},
		{"only a newline", "\n", 1, false, nil, ""},
		{"comments and blanks", "# a\n\n   \n\t# b\n", 4, false, nil, ""},
		{"missing final newline", "global\n  daemon", 2, true, []int{2}, "  daemon"},
		{"missing final newline after CR", "global\r\n  daemon\r", 2, true, []int{2}, "  daemon"},
		{"CRLF", "global\r\n  daemon\r\n", 2, false, []int{2}, "  daemon"},
		{"trailing backslash is no continuation", "global\n  daemon \\\n  quiet\n", 3, false, []int{2, 3}, "  quiet"},
		{"empty first word is kept", "global\n\"\" daemon\n", 2, false, []int{2}, `"" daemon`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := haproxy.Parse([]byte(tt.src))
			require.NoError(t, err)
			assert.Equal(t, tt.lines, cfg.Lines)
			assert.Equal(t, tt.missingLF, cfg.MissingFinalNewline)
			var lines []int
			var last string
			for _, s := range cfg.Sections {
				for _, d := range s.Directives {
					lines = append(lines, d.Line)
					last = d.Raw
				}
			}
			assert.Equal(t, tt.directives, lines)
			assert.Equal(t, tt.lastLineRaw, last)
		})
	}
}

func TestParseLineErrors(t *testing.T) {
	words64 := "log-format" + strings.Repeat(" w", 63)
	tests := []struct {
		name string
		line string
		want error
		col  int
	}{
		{"NUL byte", "  bind a\x00b", haproxy.ErrNUL, 9},
		{"carriage return inside a line", "  bind a\rb", haproxy.ErrCarriageReturn, 9},
		{"carriage return before CRLF", "  bind a\r\r", haproxy.ErrCarriageReturn, 9},
		{"line too long", "  description " + strings.Repeat("x", haproxy.MaxLineLength), haproxy.ErrLineTooLong, 0},
		{"65 words", words64 + " w", haproxy.ErrTooManyWords, 0},
		{"64 words and a trailing blank", words64 + " ", haproxy.ErrTooManyWords, 0},
		{"64 words and a comment", words64 + " # c", haproxy.ErrTooManyWords, 0},
		{"unterminated quote", `  bind "a`, haproxy.ErrUnterminatedQuote, 8},
		{"invalid escape", `  bind \xZZ`, haproxy.ErrInvalidEscape, 8},
		{"invalid variable", `  bind "$1"`, haproxy.ErrInvalidVariable, 10},
		{"empty scope", "[]", haproxy.ErrInvalidScope, 1},
		{"unclosed scope", "  [abc", haproxy.ErrInvalidScope, 3},
		{"bad scope character", "[a b]", haproxy.ErrInvalidScope, 3},
		{"text after scope", "[ab] x", haproxy.ErrInvalidScope, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "global\n" + tt.line + "\n  daemon\n"
			cfg, err := haproxy.Parse([]byte(src))
			require.ErrorIs(t, err, tt.want)
			var list haproxy.ErrorList
			require.ErrorAs(t, err, &list)
			require.Len(t, list, 1)
			assert.Equal(t, 2, list[0].Line)
			assert.Equal(t, tt.col, list[0].Col, list[0].Error())
			require.Len(t, cfg.Sections, 1)
			require.Len(t, cfg.Sections[0].Directives, 1, "the faulty line is left out")
			assert.Equal(t, 3, cfg.Sections[0].Directives[0].Line)
		})
	}

	t.Run("limits are inclusive", func(t *testing.T) {
		ok := "  description " + strings.Repeat("x", haproxy.MaxLineLength-len("  description "))
		_, err := haproxy.Parse([]byte("global\n" + ok + "\n" + words64 + "\n" + words64 + "#c\n"))
		require.NoError(t, err)
	})
}

func TestErrorList(t *testing.T) {
	src := "global\n  bind \"x\n.endif\n.if 1\n"
	_, err := haproxy.Parse([]byte(src))
	require.Error(t, err)
	assert.Equal(t, "line 2, column 8: unterminated quote: the quote opened at column 8 is not closed on this line\n"+
		"line 3: unbalanced conditional block: .endif without a matching .if\n"+
		"line 4: unbalanced conditional block: .if block is never closed by .endif", err.Error())
	assert.True(t, errors.Is(err, haproxy.ErrUnterminatedQuote))
	assert.True(t, errors.Is(err, haproxy.ErrUnbalancedConditional))
	assert.False(t, errors.Is(err, haproxy.ErrNUL))
	var serr *haproxy.SyntaxError
	require.True(t, errors.As(err, &serr))
	assert.Equal(t, 2, serr.Line, "errors.As finds the first error")
}

func TestParseMiB(t *testing.T) {
	src := bigConfig(1 << 20)
	require.GreaterOrEqual(t, len(src), 1<<20)
	cfg, err := haproxy.Parse(src)
	require.NoError(t, err)
	assert.Equal(t, strings.Count(string(src), "\n"), cfg.Lines)
	assert.Greater(t, len(cfg.Sections), 1000)
}

// TestParseBoundsErrors: past MaxErrors problems Parse counts instead of returning them.
func TestParseBoundsErrors(t *testing.T) {
	src := "global\n" + strings.Repeat("  bind \"x\n", haproxy.MaxErrors+50) + "  daemon\n" + strings.Repeat(".if 1\n", 3)
	cfg, err := haproxy.Parse([]byte(src))
	var list haproxy.ErrorList
	require.ErrorAs(t, err, &list)
	assert.Len(t, list, haproxy.MaxErrors)
	assert.Equal(t, 2, list[0].Line)
	assert.Equal(t, 53, cfg.OmittedErrors, "50 quotes and 3 unclosed .if blocks")
	require.Len(t, cfg.Sections, 1)
	assert.Equal(t, "daemon", cfg.Sections[0].Directives[0].Keyword, "lines after the errors are still read")
}

// TestWalkMatchesParse: Walk hands over exactly what Parse keeps, in order.
func TestWalkMatchesParse(t *testing.T) {
	src := bigConfig(64 << 10)
	cfg, err := haproxy.Parse(src)
	require.NoError(t, err)
	var got []string
	var want []string
	for _, s := range cfg.Sections {
		want = append(want, string(s.Kind)+" "+s.Name+" "+s.Header.Raw)
		for _, d := range s.Directives {
			want = append(want, strings.Join(d.Words(), "|"))
		}
	}
	walked, err := haproxy.Walk(src, func(s *haproxy.Section, d *haproxy.Directive) {
		if d == nil {
			assert.Empty(t, s.Directives)
			got = append(got, string(s.Kind)+" "+s.Name+" "+s.Header.Raw)
			return
		}
		got = append(got, strings.Join(d.Words(), "|"))
	})
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, cfg.Lines, walked.Lines)
	assert.Empty(t, walked.Sections)
}
