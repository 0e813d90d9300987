package policy

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// ConfigText returns the haproxy.cfg a ConfigMap holds, from data or binaryData (a ConfigMap
// volume projects both), and whether it holds one.
func ConfigText(cm *corev1.ConfigMap) ([]byte, bool) {
	if cm == nil {
		return nil, false
	}
	if s, ok := cm.Data[names.ConfigKey]; ok {
		return []byte(s), true
	}
	if b, ok := cm.BinaryData[names.ConfigKey]; ok {
		return b, true
	}
	return nil, false
}

// ValidateConfigMap checks the haproxy.cfg of a ConfigMap with ValidateConfig. A ConfigMap
// without that key has nothing to check and yields no violation (for a labelled one, the
// mutating webhook fills it in before validation).
func ValidateConfigMap(cm *corev1.ConfigMap, p *Policy) []Violation {
	vs, _ := ValidateConfigMapN(cm, p, 0)
	return vs
}

// ValidateConfigMapN is ValidateConfigMap bounded like ValidateConfigN: the first max
// violations (all when max <= 0) and how many more there are.
func ValidateConfigMapN(cm *corev1.ConfigMap, p *Policy, max int) ([]Violation, int) {
	text, ok := ConfigText(cm)
	if !ok {
		return nil, 0
	}
	return ValidateConfigN(text, p, max)
}

// GetConfigMap reads a ConfigMap; it returns nil and no error when the ConfigMap does not exist.
type GetConfigMap func(namespace, name string) (*corev1.ConfigMap, error)

// ValidateProxy checks a proxy DaemonSet with ValidateDaemonSet, then fetches the ConfigMap it
// mounts with get (in the DaemonSet's namespace) and checks its haproxy.cfg with ValidateConfig.
// The config's violations have the Source "configmap/NAME:haproxy.cfg"; a missing ConfigMap or
// key is a violation of RuleConfigVolume. The error is get's, wrapped; get may be nil, and then
// the ConfigMap is not checked.
func ValidateProxy(ds *appsv1.DaemonSet, p *Policy, get GetConfigMap) ([]Violation, error) {
	vs, _, err := ValidateProxyN(ds, p, get, 0)
	return vs, err
}

// ValidateProxyN is ValidateProxy bounded like ValidateConfigN: the first max violations (all
// when max <= 0), the DaemonSet's before its config's, and how many more there are.
func ValidateProxyN(ds *appsv1.DaemonSet, p *Policy, get GetConfigMap, max int) ([]Violation, int, error) {
	name, vs := ValidateDaemonSet(ds, p)
	if name == "" || get == nil {
		vs, more := First(vs, max)
		return vs, more, nil
	}
	cm, err := get(ds.Namespace, name)
	if err != nil {
		return nil, 0, fmt.Errorf("get ConfigMap %s/%s: %w", ds.Namespace, name, err)
	}
	source := volumeSource(ds, name)
	text, ok := ConfigText(cm)
	switch {
	case cm == nil:
		vs = append(vs, Violation{Source: source, Rule: RuleConfigVolume,
			Message: fmt.Sprintf("the ConfigMap %s does not exist in namespace %s, so the proxy's config cannot be checked", name, ds.Namespace)})
	case !ok:
		vs = append(vs, Violation{Source: source, Rule: RuleConfigVolume,
			Message: fmt.Sprintf("the ConfigMap %s has no %s key", name, names.ConfigKey)})
	default:
		cfg, more := ValidateConfigN(text, p, max)
		for _, v := range cfg {
			v.Source = "configmap/" + name + ":" + names.ConfigKey
			vs = append(vs, v)
		}
		vs, cut := First(vs, max)
		return vs, more + cut, nil
	}
	vs, more := First(vs, max)
	return vs, more, nil
}

// volumeSource is the field path of the name of the ConfigMap volume called name.
func volumeSource(ds *appsv1.DaemonSet, name string) string {
	for j, vol := range ds.Spec.Template.Spec.Volumes {
		if vol.ConfigMap != nil && vol.ConfigMap.Name == name {
			return fmt.Sprintf("%s.volumes[%d].configMap.name", podSpecPath, j)
		}
	}
	return podSpecPath + ".volumes"
}
