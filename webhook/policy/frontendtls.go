package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/haproxy"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TLSRequirement is what a policy says about a component's frontend terminating TLS.
type TLSRequirement string

const (
	// TLSAllowed (the default) accepts the frontend with or without TLS: the seed's all-HTTP
	// config stays compliant.
	TLSAllowed TLSRequirement = "allowed"
	// TLSRequired accepts only a frontend that terminates TLS, so the scraper's token never
	// crosses the node network in clear.
	TLSRequired TLSRequirement = "required"
	// TLSForbidden accepts only a plain-HTTP frontend.
	TLSForbidden TLSRequirement = "forbidden"
)

// tlsBindOptions are the only bind options the validator accepts: the TLS frontend exactly as
// the generator writes it (names.CertFile, where the proxy-cert init container or the tls-secret
// Secret puts the certificate, its key beside it).
var tlsBindOptions = []string{"ssl", "crt", names.CertFile}

// frontendTLS returns the policy's requirement for the component, TLSAllowed by default.
func (p *Policy) frontendTLS(component string) TLSRequirement {
	if p == nil {
		return TLSAllowed
	}
	if r, ok := p.FrontendTLS[component]; ok {
		return r
	}
	return TLSAllowed
}

// parseFrontendTLS reads the policy file's frontendTLS map (component: allowed|required|forbidden)
// into p, reporting every bad entry through bad.
func parseFrontendTLS(m *map[string]string, p *Policy, bad func(string, ...any)) {
	if m == nil {
		return
	}
	keys := make([]string, 0, len(*m))
	for k := range *m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	p.FrontendTLS = map[string]TLSRequirement{}
	for _, k := range keys {
		v := (*m)[k]
		if _, ok := components.Lookup(k); !ok {
			bad("frontendTLS: %q: unknown component, want one of %s", k, strings.Join(components.Names(), ", "))
			continue
		}
		switch r := TLSRequirement(v); r {
		case TLSAllowed, TLSRequired, TLSForbidden:
			p.FrontendTLS[k] = r
		default:
			bad("frontendTLS.%s: %q: want %s, %s or %s", k, v, TLSAllowed, TLSRequired, TLSForbidden)
		}
	}
}

// bindOptions checks the options after a frontend's bind address: none, or exactly
// `ssl crt CERTFILE`; and the policy's TLS requirement for the component on port.
func (v *validator) bindOptions(d haproxy.Directive, port int32) {
	opts := make([]string, 0, len(d.Args)-1)
	for _, a := range d.Args[1:] {
		opts = append(opts, a.Raw)
	}
	tls := strings.Join(opts, " ") == strings.Join(tlsBindOptions, " ")
	if len(opts) > 0 && !tls {
		v.add(d.Line, RuleBind, "bind options %s are not allowed; want exactly bind %s%d, or bind %s%d %s for TLS",
			argsFrom(d.Args[1:]), nodeIPPrefix, port, nodeIPPrefix, port, strings.Join(tlsBindOptions, " "))
		return
	}
	c, ok := v.p.componentOnPort(port)
	if !ok {
		return // the port rule reports it
	}
	switch req := v.p.frontendTLS(c.Name); {
	case req == TLSRequired && !tls:
		v.add(d.Line, RuleFrontendTLS, "the policy requires TLS on the %s frontend: the scraper's token would cross the node network in clear; want bind %s%d %s",
			c.Name, nodeIPPrefix, port, strings.Join(tlsBindOptions, " "))
	case req == TLSForbidden && tls:
		v.add(d.Line, RuleFrontendTLS, "the policy forbids TLS on the %s frontend; want bind %s%d", c.Name, nodeIPPrefix, port)
	}
}

// frontendTLSRule is RuleFrontendTLS's line in Rules.
var frontendTLSRule = Rule{RuleFrontendTLS, fmt.Sprintf("frontends without TLS where frontendTLS says %s, or with TLS where it says %s", TLSRequired, TLSForbidden)}
