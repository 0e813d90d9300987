package inject

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// IsProxyConfig reports whether cm carries the label that marks a proxy config.
func IsProxyConfig(cm *corev1.ConfigMap) bool {
	return cm.Labels[names.ConfigLabel] == names.ConfigLabelValue
}

// ConfigMap fills a stub proxy config: a ConfigMap labelled metrics-proxy.io/config=haproxy without a
// haproxy.cfg key gets the configuration generated for its components and tls annotations (by
// default TLS frontends for kube-controller-manager and kube-scheduler). Any other
// ConfigMap, and one that already has the key, is left as it is: the validating webhook judges
// what users wrote. Only a bad components annotation is an error.
func ConfigMap(cm *corev1.ConfigMap) error { return ConfigMapFiltered(cm, Filter{}) }

// ConfigMapFiltered is ConfigMap where the generated frontends let through only what f allows
// (the policy in force: its allowedPaths and allowedMethods), so that a filled stub complies.
func ConfigMapFiltered(cm *corev1.ConfigMap, f Filter) error {
	if !IsProxyConfig(cm) {
		return nil
	}
	if _, ok := cm.Data[names.ConfigKey]; ok {
		return nil
	}
	if _, ok := cm.BinaryData[names.ConfigKey]; ok {
		return nil
	}
	s, err := ParseSettings(onlyComponents(cm.Annotations), names.DefaultImage)
	if err != nil {
		return err
	}
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	cm.Data[names.ConfigKey] = HAProxyConfigFiltered(s.Components, s.TLS, f)
	return nil
}

// onlyComponents keeps the annotations that mean something on a ConfigMap: the components and
// which of them terminate TLS.
func onlyComponents(annotations map[string]string) map[string]string {
	kept := map[string]string{}
	for _, k := range []string{names.ComponentsAnnotation, names.TLSAnnotation} {
		if v, ok := annotations[k]; ok {
			kept[k] = v
		}
	}
	return kept
}
