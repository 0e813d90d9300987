package seed

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/names"
)

// allowEverything returns the ConfigMap as a careless edit would leave it: `http-request allow`
// inserted before the first frontend's /metrics deny, which lets every path through. It returns
// the ConfigMap as YAML for kubectl and the edited line's number in haproxy.cfg.
func allowEverything(cm *corev1.ConfigMap) (string, int, error) {
	cfg := cm.Data[names.ConfigKey]
	lines := strings.Split(cfg, "\n")
	at := -1
	for i, line := range lines {
		if strings.HasPrefix(strings.TrimSpace(line), "http-request deny") {
			at = i
			break
		}
	}
	if at < 0 {
		return "", 0, fmt.Errorf("ConfigMap %s/%s: no http-request deny in %s", cm.Namespace, cm.Name, names.ConfigKey)
	}
	indent := lines[at][:len(lines[at])-len(strings.TrimLeft(lines[at], " \t"))]
	lines = append(lines[:at], append([]string{indent + "http-request allow"}, lines[at:]...)...)
	edited := &corev1.ConfigMap{TypeMeta: cm.TypeMeta, ObjectMeta: cm.ObjectMeta, Data: map[string]string{}}
	edited.APIVersion, edited.Kind = "v1", "ConfigMap"
	edited.ManagedFields = nil
	for k, v := range cm.Data {
		edited.Data[k] = v
	}
	edited.Data[names.ConfigKey] = strings.Join(lines, "\n")
	out, err := yaml.Marshal(edited)
	if err != nil {
		return "", 0, fmt.Errorf("encode ConfigMap: %w", err)
	}
	return string(out), at + 1, nil
}
