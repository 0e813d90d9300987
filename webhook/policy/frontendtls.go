package policy

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

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

// DefaultProxyCertImagePattern is the image of the proxy-cert init container the default policy
// allows: the metrics-proxy image as deploy/ names it. An admin who pushes the image elsewhere
// lists it in allowedContainers ({name: proxy-cert, image: "registry.example/metrics-proxy:*"}).
const DefaultProxyCertImagePattern = "metrics-proxy:*"

// DefaultAllowedContainers are the containers a policy allows beside haproxy when it says
// nothing: the injected proxy-cert init container, which makes the TLS frontends' certificate.
func DefaultAllowedContainers() []AllowedContainer {
	return []AllowedContainer{{Name: names.ProxyCertContainer, Image: DefaultProxyCertImagePattern}}
}

// containers returns the allowed containers, defaulted.
func (p *Policy) containers() []AllowedContainer {
	if p == nil || p.AllowedContainers == nil {
		return DefaultAllowedContainers()
	}
	return p.AllowedContainers
}

// checkProxyCert checks that an allowed proxy-cert init container is exactly what injection
// writes: the image's own entrypoint (no command) with the injected arguments, and only the
// certificate volume mounted, so that its image cannot be pointed at anything else.
func checkProxyCert(c *corev1.Container, path string, add func(string, RuleID, string, ...any)) {
	want := []string{"proxy-cert", "--ip", "$(" + names.NodeIPEnv + ")", "--out", names.CertFile}
	if len(c.Command) > 0 || !slices.Equal(c.Args, want) {
		add(path, RuleOtherContainer, "init container %s must run its image's entrypoint with exactly %q, as injection writes it", c.Name, want)
	}
	for j, m := range c.VolumeMounts {
		if m.Name != names.CertVolume || m.MountPath != names.CertDir || m.SubPath != "" || m.SubPathExpr != "" {
			add(fmt.Sprintf("%s.volumeMounts[%d]", path, j), RuleOtherContainer, "init container %s may mount only volume %s at %s", c.Name, names.CertVolume, names.CertDir)
		}
	}
}
