package policy

import (
	"slices"

	"github.com/metrics-proxy/injector/webhook/names"

	"github.com/metrics-proxy/injector/webhook/components"
)

// Enforcement is what the webhook does with violations.
type Enforcement string

const (
	// EnforcementDeny rejects a non-compliant object.
	EnforcementDeny Enforcement = "Deny"
	// EnforcementWarn admits it and returns the violations as admission warnings.
	EnforcementWarn Enforcement = "Warn"
)

// DefaultImagePattern is the image pattern a policy allows by default: the official HAProxy image
// of the 3.0 LTS branch, any patch release, variant or digest of it (names.DefaultImage). The seed
// procedure's image (HAProxy 2.5.8, CVE-2023-25725) is not allowed unless a policy lists it.
const DefaultImagePattern = "haproxy:3.0*"

// DefaultPath is the only path a policy allows by default.
const DefaultPath = "/metrics"

// Policy is what a cluster admin allows. In a Policy built in Go, a zero field takes its default
// like an omitted field of a policy file: Enforcement Deny, AllowedPaths [/metrics], Components
// all, AllowedImages [DefaultImagePattern]. The validators do not modify a Policy.
type Policy struct {
	// Enforcement is what the webhook does with violations; Deny by default.
	Enforcement Enforcement
	// AllowedPaths are the request paths a proxy may forward, compared exactly; default [/metrics].
	AllowedPaths []string
	// AllowedMethods are the request methods a proxy may forward; empty: any.
	AllowedMethods []string
	// Components are the components a proxy may expose; default all.
	Components []components.Component
	// AllowedImages are glob patterns for the haproxy container's image, matched against the
	// whole image reference as written: '*' matches any run of characters, '/' and ':'
	// included, and '?' any one character; there is no other special character. Default
	// [DefaultImagePattern].
	AllowedImages []string
	// ExemptNamespaces are namespaces whose objects the webhook does not validate.
	ExemptNamespaces []string
	// FrontendTLS is, per component name, whether its frontend may, must or must not terminate
	// TLS; a component not listed: TLSAllowed.
	FrontendTLS map[string]TLSRequirement
	// AllowedContainers are the containers and init containers a proxy pod may run beside the
	// injected haproxy container, each by exact name and image pattern (as AllowedImages);
	// default DefaultAllowedContainers (the injected proxy-cert init container).
	AllowedContainers []AllowedContainer
	// InjectorImage is the image the injector writes into the proxy-cert init container (serve's
	// --proxy-cert-image, the webhook's own image): while AllowedContainers is the default, a
	// proxy-cert init container of exactly that image is allowed too, so that a re-tagged
	// install admits what it injects. Set by whoever injects (WithInjectorImage), never by the
	// policy file.
	InjectorImage string
}

// WithInjectorImage returns a copy of p (the default policy when nil) whose InjectorImage is
// image.
func (p *Policy) WithInjectorImage(image string) *Policy {
	if p == nil {
		p = Default()
	}
	c := *p
	c.InjectorImage = image
	return &c
}

// AllowedContainer is one container a proxy pod may run beside haproxy.
type AllowedContainer struct {
	// Name is the container's exact name.
	Name string
	// Image is a glob pattern for its image, matched as AllowedImages are.
	Image string
}

// Default returns the default policy, which accepts the seed procedure's ConfigMap as written.
func Default() *Policy {
	return &Policy{
		Enforcement:   EnforcementDeny,
		AllowedPaths:  []string{DefaultPath},
		Components:    components.All(),
		AllowedImages: []string{DefaultImagePattern},
	}
}

// Exempt reports whether the policy exempts namespace from validation.
func (p *Policy) Exempt(namespace string) bool {
	return p != nil && slices.Contains(p.ExemptNamespaces, namespace)
}

// ImageAllowed reports whether image matches one of the allowed image patterns.
func (p *Policy) ImageAllowed(image string) bool {
	for _, pattern := range p.images() {
		if globMatch(pattern, image) {
			return true
		}
	}
	return false
}

// ContainerAllowed reports whether the policy allows a container of that name and image beside
// the haproxy container.
func (p *Policy) ContainerAllowed(name, image string) bool {
	if p != nil && p.AllowedContainers == nil && name == names.ProxyCertContainer && p.InjectorImage != "" && image == p.InjectorImage {
		return true
	}
	for _, c := range p.containers() {
		if c.Name == name && globMatch(c.Image, image) {
			return true
		}
	}
	return false
}

// paths returns the allowed paths, defaulted.
func (p *Policy) paths() []string {
	if p == nil || len(p.AllowedPaths) == 0 {
		return []string{DefaultPath}
	}
	return p.AllowedPaths
}

// components returns the allowed components, defaulted.
func (p *Policy) components() []components.Component {
	if p == nil || len(p.Components) == 0 {
		return components.All()
	}
	return p.Components
}

// images returns the allowed image patterns, defaulted.
func (p *Policy) images() []string {
	if p == nil || len(p.AllowedImages) == 0 {
		return []string{DefaultImagePattern}
	}
	return p.AllowedImages
}

// methods returns the allowed methods; empty means any.
func (p *Policy) methods() []string {
	if p == nil {
		return nil
	}
	return p.AllowedMethods
}

// componentOnPort returns the allowed component listening on port.
func (p *Policy) componentOnPort(port int32) (components.Component, bool) {
	for _, c := range p.components() {
		if c.Port == port {
			return c, true
		}
	}
	return components.Component{}, false
}
