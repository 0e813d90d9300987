package inject

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/names"
)

// Settings are the choices a DaemonSet or ConfigMap makes through its annotations, validated.
type Settings struct {
	// Components are the components to proxy, in canonical order.
	Components []components.Component
	// ConfigMap is the name of the ConfigMap that holds haproxy.cfg.
	ConfigMap string
	// Image is the proxy image.
	Image string
	// TLS are the components, out of Components, whose frontend terminates TLS; default
	// components.DefaultTLS(Components).
	TLS []components.Component
	// TLSSecret names the Secret the TLS frontends serve; empty: a per-node certificate made at
	// pod start.
	TLSSecret string
}

// imageRef is a permissive form of a container image reference: registry/path[:tag][@digest],
// lower-case path components, no blanks. It rejects what no registry could serve.
var imageRef = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:[0-9]+)?` +
	`(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)

// ParseSettings reads the metrics-proxy.io annotations, applying the defaults for absent ones.
// An invalid value is an error that names the annotation and the value.
func ParseSettings(annotations map[string]string, defaultImage string) (Settings, error) {
	s := Settings{Components: components.All(), ConfigMap: names.DefaultConfigMap, Image: defaultImage}
	var errs []string
	if v, ok := annotations[names.ComponentsAnnotation]; ok {
		cs, err := components.Parse(v)
		if err != nil {
			errs = append(errs, fmt.Sprintf("annotation %s: %q: %v", names.ComponentsAnnotation, v, err))
		}
		s.Components = cs
	}
	if v, ok := annotations[names.ConfigMapAnnotation]; ok {
		if msgs := validation.IsDNS1123Subdomain(v); len(msgs) > 0 {
			errs = append(errs, fmt.Sprintf("annotation %s: %q is not a valid ConfigMap name: %s",
				names.ConfigMapAnnotation, v, strings.Join(msgs, "; ")))
		}
		s.ConfigMap = v
	}
	s.TLS = components.DefaultTLS(s.Components)
	if v, ok := annotations[names.TLSAnnotation]; ok {
		tls, err := ParseTLS(v, s.Components)
		if err != nil {
			errs = append(errs, fmt.Sprintf("annotation %s: %q: %v", names.TLSAnnotation, v, err))
		}
		s.TLS = tls
	}
	if v, ok := annotations[names.TLSSecretAnnotation]; ok {
		if msgs := validation.IsDNS1123Subdomain(v); len(msgs) > 0 {
			errs = append(errs, fmt.Sprintf("annotation %s: %q is not a valid Secret name: %s",
				names.TLSSecretAnnotation, v, strings.Join(msgs, "; ")))
		}
		s.TLSSecret = v
	}
	if v, ok := annotations[names.ImageAnnotation]; ok {
		if !imageRef.MatchString(v) {
			errs = append(errs, fmt.Sprintf("annotation %s: %q is not a valid image reference", names.ImageAnnotation, v))
		}
		s.Image = v
	}
	if len(errs) > 0 {
		return Settings{}, fmt.Errorf("%w: %s", ErrInvalidAnnotation, strings.Join(errs, "; "))
	}
	return s, nil
}

// ParseTLS reads the value of the metrics-proxy.io/tls annotation: "none", or a comma list of
// components out of proxied whose frontend terminates TLS.
func ParseTLS(v string, proxied []components.Component) ([]components.Component, error) {
	if strings.TrimSpace(v) == names.TLSNone {
		return nil, nil
	}
	tls, err := components.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("%w (or %s)", err, names.TLSNone)
	}
	for _, c := range tls {
		if !components.Contains(proxied, c.Name) {
			return nil, fmt.Errorf("component %s is not proxied (components: %s)", c.Name, components.Join(proxied))
		}
	}
	return tls, nil
}
