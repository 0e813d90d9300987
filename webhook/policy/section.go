package policy

import (
	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// section is what the validator learns about one global, defaults, frontend or backend section.
type section struct {
	s        *haproxy.Section   // points to hs
	hs       haproxy.Section    // a copy of what haproxy.Walk handed over, without its header's words
	allowed  map[string]handler // the keywords of its kind
	mode     string             // last mode written here (or, for defaults, inherited through "from")
	modeLine int

	acls map[string]*acl // ACLs defined so far, frontend and backend

	// defaults
	explicit     bool // a section names it with "from"
	implicitLine int  // the first proxy that inherits it as the last defaults above; 0: none

	// frontend
	binds     int
	port      int32 // port of the first valid bind; 0 when none
	routes    []route
	httpRules int        // http-request rules seen so far
	pathDeny  *condition // the first rule when it is the exact path deny
	denies    []*condition

	// backend
	serverPorts []int32 // distinct ports of the servers with a valid address, in file order
	serverLines []int   // the line of the first server on each of them
}

// route is a default_backend or use_backend directive.
type route struct {
	backend string
	line    int
	keyword string
}

// newSection returns a section for s, reusing spare when it is not nil.
func newSection(s *haproxy.Section, spare *section) *section {
	sec := spare
	if sec == nil {
		sec = &section{}
	}
	*sec = section{hs: *s, allowed: allowed[s.Kind]}
	sec.hs.Header.Args = nil
	sec.s = &sec.hs
	return sec
}

// what names the section in messages: "frontend kube-proxy", "defaults", "global".
func (sec *section) what() string {
	if sec.s.Name == "" {
		return string(sec.s.Kind)
	}
	return string(sec.s.Kind) + " " + sec.s.Name
}
