package manifest

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// Names of the scraper RBAC objects, as the seed procedure names them.
const (
	// MetricsReaderRole is the ClusterRole that may GET /metrics.
	MetricsReaderRole = "metrics-reader"
	// MetricsReaderBinding binds MetricsReaderRole to the scraper's service account.
	MetricsReaderBinding = "metrics-reader-binding"
)

// RenderOptions choose what Render generates.
type RenderOptions struct {
	// Components to proxy; nil or empty means all.
	Components []components.Component
	// Namespace of the ConfigMap and the DaemonSet; empty: the documents name none.
	Namespace string
	// ScraperNamespace and ScraperServiceAccount name the service account that may read metrics.
	ScraperNamespace, ScraperServiceAccount string
	// TLS is the metrics-proxy.io/tls value: "none" or the components whose frontend terminates
	// TLS; empty: the default (kube-controller-manager and kube-scheduler, as proxied).
	TLS string
	// TLSSecret names a Secret (tls.crt, tls.key) the TLS frontends serve instead of the per-node
	// certificate made at pod start.
	TLSSecret string
	// Prometheus adds what a Prometheus without kube-prometheus-stack needs: PrometheusOperator
	// (headless Services and ServiceMonitors as kube-prometheus-stack's) or PrometheusScrapeConfig
	// (a scrape config with kubernetes_sd_configs, in a ConfigMap); empty: nothing.
	Prometheus string
	// CertManager, when set, adds a cert-manager Certificate that fills TLSSecret.
	CertManager *CertManager
	// CreateNamespace prints the Namespace first (Pod Security enforce: privileged, as host-network
	// pods need), for a namespace of the proxies' own such as names.DedicatedNamespace.
	CreateNamespace bool
	// Policy, when set, is the policy the output must comply with: the components default to its
	// components (and must be among them), every frontend lets through exactly its allowedPaths
	// and, when it lists allowedMethods, only those, the frontends terminate TLS where its
	// frontendTLS requires and not where it forbids, and metrics-reader may GET exactly its paths.
	Policy *policy.Policy
}

// ParseScraper splits NAMESPACE/SERVICEACCOUNT.
func ParseScraper(s string) (namespace, name string, err error) {
	namespace, name, ok := strings.Cut(s, "/")
	if !ok || namespace == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("scraper %q: want NAMESPACE/SERVICEACCOUNT", s)
	}
	if err := checkName("namespace", namespace, validation.IsDNS1123Label); err != nil {
		return "", "", fmt.Errorf("scraper %q: %w", s, err)
	}
	if err := checkName("service account", name, validation.IsDNS1123Subdomain); err != nil {
		return "", "", fmt.Errorf("scraper %q: %w", s, err)
	}
	return namespace, name, nil
}

// Render generates the whole seed setup as documents: per proxy (metrics-proxy-control-plane and,
// with kube-proxy, metrics-proxy-nodes) a ConfigMap with the generated haproxy.cfg and a
// DaemonSet stub that opts in to injection; the metrics-reader ClusterRole and its binding for the
// scraper; on request what Prometheus needs to scrape the proxies.
func Render(o RenderOptions) ([]Document, error) {
	if o.Namespace != "" { // none: the documents name no namespace (kubectl's -n decides)
		if err := checkName("namespace", o.Namespace, validation.IsDNS1123Label); err != nil {
			return nil, err
		}
	}
	cs, err := renderComponents(o.Components, o.Policy)
	if err != nil {
		return nil, err
	}
	tls := components.DefaultTLS(cs)
	if o.TLS != "" {
		if tls, err = inject.ParseTLS(o.TLS, cs); err != nil {
			return nil, fmt.Errorf("tls %q: %w", o.TLS, err)
		}
	}
	if tls, err = policyTLS(cs, tls, o.TLS != "", o.Policy); err != nil {
		return nil, err
	}
	filter := inject.Filter{Paths: []string{policy.DefaultPath}}
	if o.Policy != nil {
		if len(o.Policy.AllowedPaths) > 0 {
			filter.Paths = o.Policy.AllowedPaths
		}
		filter.Methods = o.Policy.AllowedMethods
	}
	if o.TLSSecret != "" {
		if err := checkName("tls secret", o.TLSSecret, validation.IsDNS1123Subdomain); err != nil {
			return nil, err
		}
	}
	var objects []any
	if o.CreateNamespace && o.Namespace != "" {
		objects = append(objects, &corev1.Namespace{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
			ObjectMeta: metav1.ObjectMeta{Name: o.Namespace, Labels: map[string]string{
				"pod-security.kubernetes.io/enforce": "privileged"}}})
	}
	if o.CertManager != nil {
		cert, err := o.CertManager.certificate(o.Namespace, o.TLSSecret)
		if err != nil {
			return nil, fmt.Errorf("cert-manager: %w", err)
		}
		objects = append(objects, cert)
	}
	for _, p := range splitProxies(cs, tls) {
		p.filter = filter
		objects = append(objects, p.objects(o.Namespace, o.TLSSecret)...)
	}
	objects = append(objects,
		&rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: MetricsReaderRole},
			Rules:      []rbacv1.PolicyRule{{NonResourceURLs: filter.Paths, Verbs: []string{"get"}}},
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: MetricsReaderBinding},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind,
				Name: o.ScraperServiceAccount, Namespace: o.ScraperNamespace}},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: MetricsReaderRole},
		},
	)
	scrape, err := prometheusObjects(o.Prometheus, o.Namespace, cs, tls)
	if err != nil {
		return nil, err
	}
	objects = append(objects, scrape...)
	docs := make([]Document, len(objects))
	for i, obj := range objects {
		data, err := encode(obj)
		if err != nil {
			return nil, err
		}
		docs[i] = Document{Index: i + 1, YAML: data}
	}
	return docs, nil
}

// encode writes a typed object as YAML without the fields its Go type adds and nobody wrote: a
// null creationTimestamp, empty maps, the status.
func encode(obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	delete(fields, "status")
	data, err = json.Marshal(prune(fields))
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return yaml.JSONToYAML(data)
}

// prune drops nulls and empty maps, recursively; empty lists stay (containers: [] means something).
func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			e = prune(e)
			if m, ok := e.(map[string]any); e == nil || (ok && len(m) == 0) {
				delete(t, k)
				continue
			}
			t[k] = e
		}
	case []any:
		for i := range t {
			t[i] = prune(t[i])
		}
	}
	return v
}

// checkName returns an error naming what and value when value is not a valid Kubernetes name
// by check (a DNS-1123 label for namespaces, as the API server checks them).
func checkName(what, value string, check func(string) []string) error {
	if errs := check(value); len(errs) > 0 {
		return fmt.Errorf("%s %q is not a valid name: %s", what, value, strings.Join(errs, "; "))
	}
	return nil
}

// renderComponents is the components to proxy: cs, or the policy's (all without a policy);
// with a policy, each of cs must be among its components.
func renderComponents(cs []components.Component, p *policy.Policy) ([]components.Component, error) {
	allowed := components.All()
	if p != nil && len(p.Components) > 0 {
		allowed = p.Components
	}
	if len(cs) == 0 {
		return allowed, nil
	}
	for _, c := range cs {
		if !components.Contains(allowed, c.Name) {
			return nil, fmt.Errorf("component %s: the policy allows only %s", c.Name, components.Join(allowed))
		}
	}
	return cs, nil
}

// policyTLS makes tls follow the policy's frontendTLS: a component whose frontend must terminate
// TLS is added, one whose frontend must not is removed; when the user chose tls explicitly, a
// conflict is an error instead.
func policyTLS(cs, tls []components.Component, explicit bool, p *policy.Policy) ([]components.Component, error) {
	if p == nil {
		return tls, nil
	}
	var out []components.Component
	for _, c := range cs {
		has := components.Contains(tls, c.Name)
		switch p.FrontendTLS[c.Name] {
		case policy.TLSRequired:
			if !has && explicit {
				return nil, fmt.Errorf("tls: the policy requires TLS on the %s frontend", c.Name)
			}
			has = true
		case policy.TLSForbidden:
			if has && explicit {
				return nil, fmt.Errorf("tls: the policy forbids TLS on the %s frontend", c.Name)
			}
			has = false
		}
		if has {
			out = append(out, c)
		}
	}
	return out, nil
}
