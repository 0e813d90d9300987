package inject

import (
	corev1 "k8s.io/api/core/v1"
)

// IsProxyConfig reports whether cm carries the label that marks a proxy config.
func IsProxyConfig(cm *corev1.ConfigMap) bool {
	return cm.Labels[ConfigLabel] == ConfigLabelValue
}

// ConfigMap fills a stub proxy config: a ConfigMap labelled metrics-proxy.io/config=haproxy without a
// haproxy.cfg key gets the configuration generated for its components annotation. Any other
// ConfigMap, and one that already has the key, is left as it is: the validating webhook judges
// what users wrote. Only a bad components annotation is an error.
func ConfigMap(cm *corev1.ConfigMap) error {
	if !IsProxyConfig(cm) {
		return nil
	}
	if _, ok := cm.Data[ConfigKey]; ok {
		return nil
	}
	if _, ok := cm.BinaryData[ConfigKey]; ok {
		return nil
	}
	s, err := ParseSettings(onlyComponents(cm.Annotations), DefaultImage)
	if err != nil {
		return err
	}
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	cm.Data[ConfigKey] = HAProxyConfig(s.Components)
	return nil
}

// onlyComponents keeps the one annotation that means something on a ConfigMap.
func onlyComponents(annotations map[string]string) map[string]string {
	if v, ok := annotations[ComponentsAnnotation]; ok {
		return map[string]string{ComponentsAnnotation: v}
	}
	return nil
}
