package manifest

import (
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
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

// Render generates the whole seed setup as documents: a proxy ConfigMap with the generated
// haproxy.cfg, a DaemonSet stub that opts in to injection, the metrics-reader ClusterRole and its
// binding for the scraper.
func Render(o RenderOptions) ([]Document, error) {
	if o.Namespace != "" { // none: the documents name no namespace (kubectl's -n decides)
		if err := checkName("namespace", o.Namespace, validation.IsDNS1123Label); err != nil {
			return nil, err
		}
	}
	cs := o.Components
	if len(cs) == 0 {
		cs = components.All()
	}
	var annotations map[string]string
	if len(cs) != len(components.All()) {
		annotations = map[string]string{names.ComponentsAnnotation: components.Join(cs)}
	}
	objects := []any{
		&corev1.ConfigMap{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: names.DefaultConfigMap, Namespace: o.Namespace,
				Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}, Annotations: annotations},
			Data: map[string]string{names.ConfigKey: inject.HAProxyConfig(cs)},
		},
		&appsv1.DaemonSet{
			TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: metav1.ObjectMeta{Name: names.DefaultConfigMap, Namespace: o.Namespace,
				Labels: map[string]string{names.InjectLabel: "true"}, Annotations: annotations},
			Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{Containers: []corev1.Container{}}}},
		},
		&rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: MetricsReaderRole},
			Rules:      []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}},
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: MetricsReaderBinding},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind,
				Name: o.ScraperServiceAccount, Namespace: o.ScraperNamespace}},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: MetricsReaderRole},
		},
	}
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
