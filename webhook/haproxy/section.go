package haproxy

// SectionKind is the keyword that opened a section.
type SectionKind string

// The section keywords of HAProxy 2.6 and of later releases, so that a validator can name and
// reject any of them. A line whose keyword is one of these opens a new section.
const (
	// NoSection holds the directives written before the first section; HAProxy rejects them.
	NoSection SectionKind = ""

	Global   SectionKind = "global"
	Defaults SectionKind = "defaults"
	Frontend SectionKind = "frontend"
	Backend  SectionKind = "backend"
	Listen   SectionKind = "listen"

	Cache         SectionKind = "cache"
	FCGIApp       SectionKind = "fcgi-app"
	HTTPErrors    SectionKind = "http-errors"
	LogForward    SectionKind = "log-forward"
	Mailers       SectionKind = "mailers"
	NamespaceList SectionKind = "namespace_list"
	Peers         SectionKind = "peers"
	Program       SectionKind = "program" // removed in HAProxy 3.3
	Resolvers     SectionKind = "resolvers"
	Ring          SectionKind = "ring"
	Userlist      SectionKind = "userlist"
	// Sections of SPOE configuration files (filter spoe ... config FILE).
	SPOEAgent   SectionKind = "spoe-agent"
	SPOEGroup   SectionKind = "spoe-group"
	SPOEMessage SectionKind = "spoe-message"
	// Sections added after 2.6 (crt-store 3.0, traces 3.1, log-profile 3.1, acme 3.2,
	// healthcheck 3.4); HAProxy 2.6 reports them as unknown keywords out of section.
	ACME        SectionKind = "acme"
	CrtStore    SectionKind = "crt-store"
	Healthcheck SectionKind = "healthcheck"
	LogProfile  SectionKind = "log-profile"
	Traces      SectionKind = "traces"
	// Ruleset is a section of HAProxy 1.5 that later releases dropped.
	Ruleset SectionKind = "ruleset"
)

// sectionKind returns the section keyword kw opens; a switch, which every line goes through,
// rather than a map lookup.
func sectionKind(kw string) (SectionKind, bool) {
	switch k := SectionKind(kw); k {
	case Global, Defaults, Frontend, Backend, Listen,
		Cache, FCGIApp, HTTPErrors, LogForward, Mailers, NamespaceList, Peers, Program, Resolvers,
		Ring, Userlist, SPOEAgent, SPOEGroup, SPOEMessage,
		ACME, CrtStore, Healthcheck, LogProfile, Traces, Ruleset:
		return k, true
	}
	return NoSection, false
}

// IsSectionKeyword reports whether keyword opens a section. Keywords are case-sensitive.
func IsSectionKeyword(keyword string) bool {
	_, ok := sectionKind(keyword)
	return ok
}

// Section is a section header and the directives up to the next header.
type Section struct {
	// Kind is the section keyword; NoSection for directives that precede every section.
	Kind SectionKind
	// Name is the section's name: the header's first argument (empty for global and for an
	// anonymous defaults section).
	Name string
	// From names the defaults section given by "from NAME" on a defaults, frontend, backend or
	// listen header; empty when there is none.
	From string
	// Line is the header's line number; for NoSection, the line of its first directive.
	Line int
	// Header is the line that opened the section; zero for NoSection.
	Header Directive
	// Directives are the section's lines after the header, conditionals and messages included.
	Directives []Directive
}

// parseHeader returns the name and the "from" defaults of a section opened by h. It checks the
// shape of global, defaults, frontend, backend and listen headers, and is stricter than HAProxy,
// which ignores some extra arguments or only warns about them.
func parseHeader(kind SectionKind, h Directive) (name, from string, err *SyntaxError) {
	args := h.Words()[1:]
	switch kind {
	case Global:
		if len(args) > 0 {
			return "", "", headerError(h, 0, "global takes no argument")
		}
		return "", "", nil
	case Defaults:
		switch {
		case len(args) == 0:
			return "", "", nil
		case len(args) == 1:
			return args[0], "", nil
		case len(args) == 2 && args[0] == "from":
			return "", args[1], nil
		}
		return proxyHeader(h, args)
	case Frontend, Backend, Listen:
		if len(args) == 0 || args[0] == "" {
			return "", "", headerError(h, -1, "%s needs a name", kind)
		}
		return proxyHeader(h, args)
	default:
		if len(args) > 0 {
			name = args[0]
		}
		return name, "", nil
	}
}

// proxyHeader checks "NAME" and "NAME from DEFAULTS".
func proxyHeader(h Directive, args []string) (name, from string, err *SyntaxError) {
	name = args[0]
	switch {
	case len(args) == 1:
		return name, "", nil
	case args[1] != "from":
		return name, "", headerError(h, 1, "unexpected argument %q after the name (only \"from DEFAULTS\" may follow)", args[1])
	case len(args) == 2 || args[2] == "":
		return name, "", headerError(h, 1, `"from" needs the name of a defaults section`)
	case len(args) > 3:
		return name, args[2], headerError(h, 3, "unexpected argument %q", args[3])
	}
	return name, args[2], nil
}

// headerError reports a problem at argument i of h (-1: the keyword).
func headerError(h Directive, i int, format string, args ...any) *SyntaxError {
	col := 0
	if i >= 0 && i < len(h.Args) {
		col = h.Args[i].Col
	}
	return syntaxError(h.Line, col, ErrInvalidSectionHeader, format, args...)
}
