package haproxy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

func TestParseDotDirectives(t *testing.T) {
	src := `global
.if defined(X)
  daemon
.elif streq("a","b")
.else
  .notice "in the else branch"
.endif
.warning w
.alert a
.diag d
  [scope1] # comment
`
	cfg, err := haproxy.Parse([]byte(src))
	require.NoError(t, err)
	require.Len(t, cfg.Sections, 1)
	type dk struct {
		Kind    haproxy.DirectiveKind
		Keyword string
		Line    int
	}
	var got []dk
	for _, d := range cfg.Sections[0].Directives {
		got = append(got, dk{d.Kind, d.Keyword, d.Line})
	}
	assert.Equal(t, []dk{
		{haproxy.Conditional, ".if", 2},
		{haproxy.Statement, "daemon", 3},
		{haproxy.Conditional, ".elif", 4},
		{haproxy.Conditional, ".else", 5},
		{haproxy.Message, ".notice", 6},
		{haproxy.Conditional, ".endif", 7},
		{haproxy.Message, ".warning", 8},
		{haproxy.Message, ".alert", 9},
		{haproxy.Message, ".diag", 10},
		{haproxy.Scope, "[scope1]", 11},
	}, got)
	assert.Equal(t, []string{".if", "defined(X)"}, cfg.Sections[0].Directives[0].Words())
	assert.Equal(t, "in the else branch", cfg.Sections[0].Directives[4].Args[0].Value)
	assert.Equal(t, "conditional", haproxy.Conditional.String())
	assert.Equal(t, "scope", haproxy.Scope.String())
	assert.Equal(t, "unknown", haproxy.DirectiveKind(42).String())
}

func TestParseDirectiveErrors(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		want  error
		lines []int
	}{
		{"lone endif", ".endif\n", haproxy.ErrUnbalancedConditional, []int{1}},
		{"lone else", "global\n.else\n", haproxy.ErrUnbalancedConditional, []int{2}},
		{"lone elif", ".elif 1\n", haproxy.ErrUnbalancedConditional, []int{1}},
		{"unterminated if", ".if 1\nglobal\n.if 0\n.endif\n", haproxy.ErrUnbalancedConditional, []int{1}},
		{"two unterminated ifs", ".if 1\n.if 1\n", haproxy.ErrUnbalancedConditional, []int{1, 2}},
		{"elif after else", ".if 1\n.else\n.elif 0\n.endif\n", haproxy.ErrUnbalancedConditional, []int{3}},
		{"else after else", ".if 1\n.else\n.else\n.endif\n", haproxy.ErrUnbalancedConditional, []int{3}},
		{"too deep", strings.Repeat(".if 1\n", 100) + strings.Repeat(".endif\n", 100), haproxy.ErrUnbalancedConditional, []int{100}},
		{"else with argument", ".if 1\n.else x\n.endif\n", haproxy.ErrInvalidDirective, []int{2}},
		{"endif with argument", ".if 1\n.endif x\n", haproxy.ErrInvalidDirective, []int{2}},
		{"unknown dot directive", "global\n.include x\n", haproxy.ErrInvalidDirective, []int{2}},
		{"notice with two words", `.notice two words` + "\n", haproxy.ErrInvalidDirective, []int{1}},
		{"negated section", "global\nno frontend x\n", haproxy.ErrInvalidSectionHeader, []int{2}},
		{"default section", "default backend x\n", haproxy.ErrInvalidSectionHeader, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := haproxy.Parse([]byte(tt.src))
			require.ErrorIs(t, err, tt.want)
			var list haproxy.ErrorList
			require.ErrorAs(t, err, &list)
			var lines []int
			for _, e := range list {
				lines = append(lines, e.Line)
			}
			assert.Equal(t, tt.lines, lines)
			n := 0
			for _, s := range cfg.Sections {
				n += len(s.Directives)
			}
			assert.Positive(t, n, "well-formed lines with a structural problem are kept")
		})
	}

	t.Run("99 levels are fine", func(t *testing.T) {
		_, err := haproxy.Parse([]byte(strings.Repeat(".if 1\n", 99) + strings.Repeat(".endif\n", 99)))
		require.NoError(t, err)
	})
}
