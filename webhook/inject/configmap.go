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
// haproxy.cfg key gets the configuration generated for its components annotation. Any other
// ConfigMap, and one that already has the key, is left as it is: the validating webhook judges
// what users wrote. Only a bad components annotation is an error.
func ConfigMap(cm *corev1.ConfigMap) error {
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
	cm.Data[names.ConfigKey] = HAProxyConfig(s.Components)
	return nil
}

// onlyComponents keeps the one annotation that means something on a ConfigMap.
func onlyComponents(annotations map[string]string) map[string]string {
	if v, ok := annotations[names.ComponentsAnnotation]; ok {
		return map[string]string{names.ComponentsAnnotation: v}
	}
	return nil
}
