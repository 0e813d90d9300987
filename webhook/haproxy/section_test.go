package haproxy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

func TestParseSectionKinds(t *testing.T) {
	kinds := []haproxy.SectionKind{
		haproxy.Global, haproxy.Defaults, haproxy.Frontend, haproxy.Backend, haproxy.Listen,
		haproxy.Cache, haproxy.FCGIApp, haproxy.HTTPErrors, haproxy.LogForward, haproxy.Mailers,
		haproxy.NamespaceList, haproxy.Peers, haproxy.Program, haproxy.Resolvers, haproxy.Ring,
		haproxy.Userlist, haproxy.SPOEAgent, haproxy.SPOEGroup, haproxy.SPOEMessage, haproxy.ACME,
		haproxy.CrtStore, haproxy.Healthcheck, haproxy.LogProfile, haproxy.Traces, haproxy.Ruleset,
	}
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			assert.True(t, haproxy.IsSectionKeyword(string(kind)))
			header := string(kind)
			if kind != haproxy.Global {
				header += " s1"
			}
			cfg, err := haproxy.Parse([]byte(header + "\n  some-keyword arg\n"))
			require.NoError(t, err)
			require.Len(t, cfg.Sections, 1)
			s := cfg.Sections[0]
			assert.Equal(t, kind, s.Kind)
			assert.Equal(t, 1, s.Line)
			if kind != haproxy.Global {
				assert.Equal(t, "s1", s.Name)
			}
			require.Len(t, s.Directives, 1)
			assert.Equal(t, 2, s.Directives[0].Line)
		})
	}
	for _, kw := range []string{"Frontend", "front-end", "bind", "", "no", "section"} {
		assert.False(t, haproxy.IsSectionKeyword(kw), kw)
	}
}

func TestParseSectionHeaders(t *testing.T) {
	tests := []struct {
		name       string
		header     string
		kind       haproxy.SectionKind
		wantName   string
		wantFrom   string
		wantErrCol int // -1: no error
	}{
		{"anonymous defaults", "defaults", haproxy.Defaults, "", "", -1},
		{"named defaults", "defaults base", haproxy.Defaults, "base", "", -1},
		{"anonymous defaults from", "defaults from base", haproxy.Defaults, "", "base", -1},
		{"named defaults from", "defaults http from base", haproxy.Defaults, "http", "base", -1},
		{"defaults named from", "defaults from", haproxy.Defaults, "from", "", -1},
		{"defaults extra argument", "defaults a b", haproxy.Defaults, "a", "", 12},
		{"defaults from without name", "defaults a from", haproxy.Defaults, "a", "", 12},
		{"frontend", "frontend fe", haproxy.Frontend, "fe", "", -1},
		{"frontend from", "frontend fe from base", haproxy.Frontend, "fe", "base", -1},
		{"backend from", "backend be from base", haproxy.Backend, "be", "base", -1},
		{"listen from", "listen li from base", haproxy.Listen, "li", "base", -1},
		{"quoted names", `frontend "fe" 'from' "base"`, haproxy.Frontend, "fe", "base", -1},
		{"frontend without name", "frontend", haproxy.Frontend, "", "", 0},
		{"frontend empty name", `frontend ""`, haproxy.Frontend, "", "", 0},
		{"legacy listen address", "listen li 0.0.0.0:80", haproxy.Listen, "li", "", 11},
		{"from without defaults name", "backend be from", haproxy.Backend, "be", "", 12},
		{"argument after from", "frontend fe from base x", haproxy.Frontend, "fe", "base", 23},
		{"global", "global", haproxy.Global, "", "", -1},
		{"global with argument", "global x", haproxy.Global, "", "", 8},
		{"other sections take any arguments", "peers p extra", haproxy.Peers, "p", "", -1},
		{"quoted section keyword", `"frontend" fe`, haproxy.Frontend, "fe", "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := haproxy.Parse([]byte(tt.header + "\n"))
			require.Len(t, cfg.Sections, 1, "a malformed header still opens its section")
			s := cfg.Sections[0]
			assert.Equal(t, tt.kind, s.Kind)
			assert.Equal(t, tt.wantName, s.Name)
			assert.Equal(t, tt.wantFrom, s.From)
			assert.Equal(t, tt.header, s.Header.Raw)
			if tt.wantErrCol < 0 {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, haproxy.ErrInvalidSectionHeader)
			var serr *haproxy.SyntaxError
			require.ErrorAs(t, err, &serr)
			assert.Equal(t, 1, serr.Line)
			assert.Equal(t, tt.wantErrCol, serr.Col, serr.Error())
		})
	}
}

func TestParseStructure(t *testing.T) {
	src := `# leading comment
maxconn 10
global
  daemon
defaults web from base
  mode http

frontend fe from web
  bind :80
backend be
  server s 127.0.0.1:80
`
	cfg, err := haproxy.Parse([]byte(src))
	require.NoError(t, err)
	assert.Equal(t, 11, cfg.Lines)
	assert.Equal(t, []summary{
		{haproxy.NoSection, "", 2, []int{2}},
		{haproxy.Global, "", 3, []int{4}},
		{haproxy.Defaults, "web", 5, []int{6}},
		{haproxy.Frontend, "fe", 8, []int{9}},
		{haproxy.Backend, "be", 10, []int{11}},
	}, summarize(cfg))
	assert.Equal(t, haproxy.Directive{}, cfg.Sections[0].Header, "the pseudo-section has no header")
	assert.Equal(t, "maxconn", cfg.Sections[0].Directives[0].Keyword)
	assert.Equal(t, "base", cfg.Sections[2].From)
	assert.Equal(t, "web", cfg.Sections[3].From)
}
