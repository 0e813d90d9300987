package policy

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/names"
)

// APIVersion and Kind identify a policy file.
const (
	// APIVersion is the only apiVersion a policy file may have.
	APIVersion = "metrics-proxy.io/v1alpha1"
	// Kind is the only kind a policy file may have.
	Kind = "Policy"
)

// ErrInvalidPolicy is wrapped by every error Parse returns.
var ErrInvalidPolicy = errors.New("invalid policy")

// file is the policy file as written; pointers tell an omitted field from an empty one.
type file struct {
	APIVersion       string             `json:"apiVersion"`
	Kind             string             `json:"kind"`
	Enforcement      *string            `json:"enforcement,omitempty"`
	AllowedPaths     *[]string          `json:"allowedPaths,omitempty"`
	AllowedMethods   *[]string          `json:"allowedMethods,omitempty"`
	Components       *[]string          `json:"components,omitempty"`
	AllowedImages    *[]string          `json:"allowedImages,omitempty"`
	ExemptNamespaces *[]string          `json:"exemptNamespaces,omitempty"`
	FrontendTLS      *map[string]string `json:"frontendTLS,omitempty"`
	// AllowedContainers are {name, image} entries.
	AllowedContainers *[]allowedContainer `json:"allowedContainers,omitempty"`
}

// allowedContainer is one entry of allowedContainers as written.
type allowedContainer struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

// Parse reads a policy file, YAML or JSON:
//
//	apiVersion: metrics-proxy.io/v1alpha1
//	kind: Policy
//	enforcement: Deny            # Deny | Warn
//	allowedPaths: [/metrics]
//	allowedMethods: []           # e.g. [GET, HEAD]; empty: any
//	components: [kube-proxy, kube-controller-manager, kube-scheduler, etcd]
//	allowedImages: ["haproxy:3.0*"]
//	exemptNamespaces: []
//	allowedContainers: []        # e.g. [{name: reloader, image: "registry.example/reloader:*"}]
//	frontendTLS: {}              # per component: allowed (default) | required | forbidden
//
// Omitted fields take the defaults of Default. Parsing is strict: an unknown or repeated field,
// a wrong apiVersion or kind, an enforcement other than Deny or Warn, an empty allowedPaths,
// components or allowedImages list, a path that does not start with '/' (or has a blank, a
// control character, '?' or '#'), a method that is not an HTTP token, an unknown or repeated
// component, a bad image pattern (see Policy.AllowedImages) a namespace that is not a DNS
// label, or an allowedContainers entry without a DNS-label name, named haproxy, repeated or with a
// bad image pattern is an error that names the field and the value. Every error wraps ErrInvalidPolicy.
func Parse(data []byte) (*Policy, error) {
	var f file
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
	}
	p := Default()
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if f.APIVersion != APIVersion {
		bad("apiVersion: %q: want %s", f.APIVersion, APIVersion)
	}
	if f.Kind != Kind {
		bad("kind: %q: want %s", f.Kind, Kind)
	}
	if f.Enforcement != nil {
		switch e := Enforcement(*f.Enforcement); e {
		case EnforcementDeny, EnforcementWarn:
			p.Enforcement = e
		default:
			bad("enforcement: %q: want %s or %s", *f.Enforcement, EnforcementDeny, EnforcementWarn)
		}
	}
	if f.AllowedPaths != nil {
		p.AllowedPaths = list(*f.AllowedPaths)
		if len(p.AllowedPaths) == 0 {
			bad("allowedPaths: empty: list at least one path, e.g. [/metrics]")
		}
		for i, v := range p.AllowedPaths {
			if err := checkPath(v); err != nil {
				bad("allowedPaths[%d]: %q: %v", i, v, err)
			}
		}
	}
	if f.AllowedMethods != nil {
		p.AllowedMethods = list(*f.AllowedMethods)
		for i, v := range p.AllowedMethods {
			if !isToken(v) {
				bad("allowedMethods[%d]: %q: not an HTTP method token", i, v)
			}
		}
	}
	if f.Components != nil {
		p.Components = nil
		if len(*f.Components) == 0 {
			bad("components: empty: list at least one of %s", strings.Join(components.Names(), ", "))
		}
		seen := map[string]bool{}
		for i, v := range *f.Components {
			c, ok := components.Lookup(v)
			switch {
			case !ok:
				bad("components[%d]: %q: unknown component, want one of %s", i, v, strings.Join(components.Names(), ", "))
			case seen[v]:
				bad("components[%d]: %q: listed twice", i, v)
			default:
				seen[v] = true
				p.Components = append(p.Components, c)
			}
		}
	}
	if f.AllowedImages != nil {
		p.AllowedImages = list(*f.AllowedImages)
		if len(p.AllowedImages) == 0 {
			bad("allowedImages: empty: list at least one image pattern")
		}
		for i, v := range p.AllowedImages {
			if err := checkGlob(v); err != nil {
				bad("allowedImages[%d]: %q: %v", i, v, err)
			}
		}
	}
	if f.ExemptNamespaces != nil {
		p.ExemptNamespaces = list(*f.ExemptNamespaces)
		for i, v := range p.ExemptNamespaces {
			if msgs := validation.IsDNS1123Label(v); len(msgs) > 0 {
				bad("exemptNamespaces[%d]: %q: not a namespace name: %s", i, v, strings.Join(msgs, "; "))
			}
		}
	}
	if f.AllowedContainers != nil {
		p.AllowedContainers = allowedContainers(*f.AllowedContainers, bad)
	}
	parseFrontendTLS(f.FrontendTLS, p, bad)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalidPolicy, strings.Join(errs, "; "))
	}
	return p, nil
}

// allowedContainers checks the allowedContainers entries and returns them, reporting each bad
// one through bad.
func allowedContainers(in []allowedContainer, bad func(string, ...any)) []AllowedContainer {
	var out []AllowedContainer
	seen := map[string]bool{}
	for i, c := range in {
		switch msgs := validation.IsDNS1123Label(c.Name); {
		case len(msgs) > 0:
			bad("allowedContainers[%d].name: %q: not a container name: %s", i, c.Name, strings.Join(msgs, "; "))
		case c.Name == names.ContainerName:
			bad("allowedContainers[%d].name: %q: the injected container is not listed here", i, c.Name)
		case seen[c.Name]:
			bad("allowedContainers[%d].name: %q: listed twice", i, c.Name)
		}
		seen[c.Name] = true
		if err := checkGlob(c.Image); err != nil {
			bad("allowedContainers[%d].image: %q: %v", i, c.Image, err)
		}
		out = append(out, AllowedContainer{Name: c.Name, Image: c.Image})
	}
	return out
}

// list returns a copy of l, nil for an empty list.
func list(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return append([]string(nil), l...)
}

// checkPath reports why v cannot be an allowed request path.
func checkPath(v string) error {
	if !strings.HasPrefix(v, "/") {
		return fmt.Errorf("a path starts with '/'")
	}
	for _, r := range v {
		switch {
		case r <= ' ' || r == 0x7f:
			return fmt.Errorf("a path has no blank or control character")
		case r == '?':
			return fmt.Errorf("a path has no query: HAProxy's path excludes it")
		case r == '#':
			return fmt.Errorf("a path has no fragment")
		}
	}
	return nil
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2), which a method is.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
