package manifest

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/components"
)

// What `render --prometheus` adds for a Prometheus without kube-prometheus-stack.
const (
	// PrometheusOperator: headless Services in kube-system and ServiceMonitors, shaped as
	// kube-prometheus-stack renders them with default values.
	PrometheusOperator = "operator"
	// PrometheusScrapeConfig: a ConfigMap holding a scrape config file with kubernetes_sd_configs,
	// for a Prometheus without the Operator (scrape_config_files).
	PrometheusScrapeConfig = "scrape-config"
)

// JobLabel is the Service label whose value the ServiceMonitors make the job label.
const JobLabel = "metrics-proxy.io/job"

// ScrapeConfigMap is the ConfigMap of PrometheusScrapeConfig; ScrapeConfigKey its file.
const (
	ScrapeConfigMap = "metrics-proxy-scrape-config"
	ScrapeConfigKey = "metrics-proxy.yaml"
)

// The service account files every Prometheus pod mounts, as kube-prometheus-stack uses them.
const (
	saToken = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	saCA    = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
)

// Target is how Prometheus finds and names one component, kube-prometheus-stack's defaults: the
// labels that select the component's pods in kube-system (kubeadm's static pods, kube-proxy's
// DaemonSet) and the job name the mixins' alerts select.
type Target struct {
	// Component is the component.
	Component components.Component
	// Job is the job label of its series.
	Job string
	// Selector selects its pods in kube-system.
	Selector map[string]string
}

// Targets returns the scrape targets of cs, in canonical order.
func Targets(cs []components.Component) []Target {
	out := make([]Target, 0, len(cs))
	for _, c := range cs {
		t := Target{Component: c, Job: c.Name, Selector: map[string]string{"component": c.Name}}
		switch c.Name {
		case "kube-proxy":
			t.Selector = map[string]string{"k8s-app": "kube-proxy"}
		case "etcd":
			t.Job = "kube-etcd"
		}
		out = append(out, t)
	}
	return out
}

// prometheusObjects returns what mode asks for; tls are the components scraped over HTTPS.
func prometheusObjects(mode, namespace string, cs, tls []components.Component) ([]any, error) {
	switch mode {
	case "":
		return nil, nil
	case PrometheusOperator:
		var out []any
		for _, t := range Targets(cs) {
			out = append(out, service(t), serviceMonitor(t, namespace, components.Contains(tls, t.Component.Name)))
		}
		return out, nil
	case PrometheusScrapeConfig:
		var jobs []any
		for _, t := range Targets(cs) {
			jobs = append(jobs, scrapeConfig(t, components.Contains(tls, t.Component.Name)))
		}
		data, err := yaml.Marshal(map[string]any{"scrape_configs": jobs})
		if err != nil {
			return nil, fmt.Errorf("scrape config: %w", err)
		}
		return []any{&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: ScrapeConfigMap, Namespace: namespace},
			Data:       map[string]string{ScrapeConfigKey: string(data)},
		}}, nil
	default:
		return nil, fmt.Errorf("prometheus %q: want %s or %s", mode, PrometheusOperator, PrometheusScrapeConfig)
	}
}

// service is the headless Service whose endpoints are the component's pods (host network: the
// node IPs), as kube-prometheus-stack's: port http-metrics, no cluster IP.
func service(t Target) *corev1.Service {
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "metrics-proxy-" + t.Job, Namespace: "kube-system",
			Labels: map[string]string{JobLabel: t.Job}},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Type:      corev1.ServiceTypeClusterIP,
			Selector:  t.Selector,
			Ports: []corev1.ServicePort{{Name: "http-metrics", Port: t.Component.Port, Protocol: corev1.ProtocolTCP,
				TargetPort: intstr.FromInt32(t.Component.Port)}},
		},
	}
}

// serviceMonitor scrapes the Service's endpoints as kube-prometheus-stack does: with the
// service-account token, over HTTPS without verification for a TLS frontend.
func serviceMonitor(t Target, namespace string, https bool) map[string]any {
	endpoint := map[string]any{"port": "http-metrics", "bearerTokenFile": saToken}
	if https {
		endpoint["scheme"] = "https"
		endpoint["tlsConfig"] = map[string]any{"caFile": saCA, "insecureSkipVerify": true}
	}
	meta := map[string]any{"name": "metrics-proxy-" + t.Job, "labels": map[string]any{JobLabel: t.Job}}
	if namespace != "" {
		meta["namespace"] = namespace
	}
	return map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "ServiceMonitor",
		"metadata":   meta,
		"spec": map[string]any{
			"jobLabel":          JobLabel,
			"selector":          map[string]any{"matchLabels": map[string]any{JobLabel: t.Job}},
			"namespaceSelector": map[string]any{"matchNames": []any{"kube-system"}},
			"endpoints":         []any{endpoint},
		},
	}
}

// scrapeConfig is a Prometheus scrape config for t: the component's pods in kube-system, found
// through the API server, scraped on the pod IP (the node IP: host network) and the component's
// port, with the service-account token.
func scrapeConfig(t Target, https bool) map[string]any {
	var selector string
	for k, v := range t.Selector {
		selector = k + "=" + v
	}
	job := map[string]any{
		"job_name":      t.Job,
		"authorization": map[string]any{"credentials_file": saToken},
		"kubernetes_sd_configs": []any{map[string]any{
			"role":       "pod",
			"namespaces": map[string]any{"names": []any{"kube-system"}},
			"selectors":  []any{map[string]any{"role": "pod", "label": selector}},
		}},
		"relabel_configs": []any{
			map[string]any{"source_labels": []any{"__meta_kubernetes_pod_ip"}, "target_label": "__address__",
				"replacement": "${1}:" + strconv.Itoa(int(t.Component.Port))},
			map[string]any{"source_labels": []any{"__meta_kubernetes_namespace"}, "target_label": "namespace"},
			map[string]any{"source_labels": []any{"__meta_kubernetes_pod_name"}, "target_label": "pod"},
		},
	}
	if https {
		job["scheme"] = "https"
		job["tls_config"] = map[string]any{"ca_file": saCA, "insecure_skip_verify": true}
	}
	return job
}
