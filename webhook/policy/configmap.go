package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"

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

// ValidateConfigMap checks a ConfigMap that holds haproxy.cfg: no other key (RuleConfigKeys),
// a config no larger than MaxConfigBytes (RuleObjectSize; a larger one is not parsed) and the
// config itself with ValidateConfig. A ConfigMap without that key has nothing to check and
// yields no violation (for a labelled one, the mutating webhook fills it in before validation).
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
	vs := otherKeys(cm, "configmap/"+cm.Name)
	if v := configSize(text, "configmap/"+cm.Name+":"+names.ConfigKey); v != nil {
		return First(append(vs, *v), max)
	}
	cfg, more := ValidateConfigN(text, p, max)
	vs, cut := First(append(vs, cfg...), max)
	return vs, more + cut
}

// ValidateConfigMapUpdate checks an update of a ConfigMap from old to cm: cm with
// ValidateConfigMap, and that an update does not remove the metrics-proxy.io/config label (or
// change its value) while cm holds haproxy.cfg (RuleConfigLabel): the label is what keeps the
// ConfigMap's later edits checked outside namespaces with injection enabled. old may be nil (a
// create).
func ValidateConfigMapUpdate(old, cm *corev1.ConfigMap, p *Policy) []Violation {
	vs := ValidateConfigMap(cm, p)
	if old == nil || old.Labels[names.ConfigLabel] != names.ConfigLabelValue || cm.Labels[names.ConfigLabel] == names.ConfigLabelValue {
		return vs
	}
	if _, ok := ConfigText(cm); !ok {
		return vs
	}
	return append([]Violation{{Source: "configmap/" + cm.Name + ".metadata.labels", Rule: RuleConfigLabel,
		Message: fmt.Sprintf("the label %s=%s is removed while the ConfigMap holds %s: a proxy may mount it, and its later edits "+
			"would no longer be checked; delete %s first, or keep the label", names.ConfigLabel, names.ConfigLabelValue,
			names.ConfigKey, names.ConfigKey)}}, vs...)
}

// otherKeys reports the keys of a ConfigMap holding haproxy.cfg other than haproxy.cfg, in
// data and binaryData, in sorted order.
func otherKeys(cm *corev1.ConfigMap, source string) []Violation {
	var keys []string
	for k := range cm.Data {
		if k != names.ConfigKey {
			keys = append(keys, "data."+k)
		}
	}
	for k := range cm.BinaryData {
		if k != names.ConfigKey {
			keys = append(keys, "binaryData."+k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	if len(keys) > 10 {
		keys = append(keys[:10], fmt.Sprintf("and %d more", len(keys)-10))
	}
	return []Violation{{Source: source, Rule: RuleConfigKeys, Message: fmt.Sprintf(
		"a ConfigMap holding %s holds nothing else, but it has %s: another container or a later mount could read them as a config nobody validated",
		names.ConfigKey, strings.Join(keys, ", "))}}
}

// configSize reports a config larger than MaxConfigBytes.
func configSize(text []byte, source string) *Violation {
	if len(text) <= MaxConfigBytes {
		return nil
	}
	return &Violation{Source: source, Rule: RuleObjectSize, Message: fmt.Sprintf(
		"%s is %d bytes, more than the %d a metrics proxy's config needs; it was not parsed", names.ConfigKey, len(text), MaxConfigBytes)}
}

// GetConfigMap reads a ConfigMap; it returns nil and no error when the ConfigMap does not exist,
// and ErrValidated (wrapped or not) when it knows the ConfigMap's config compliant already.
type GetConfigMap func(namespace, name string) (*corev1.ConfigMap, error)

// ErrValidated is what a GetConfigMap returns instead of a ConfigMap whose current version it
// knows was validated, and found compliant, under the same policy (a cache of verdicts): the
// config is not checked again.
var ErrValidated = errors.New("the ConfigMap was validated before")

// ValidateProxy checks a proxy DaemonSet with ValidateDaemonSet, then fetches the ConfigMap it
// mounts with get (in the DaemonSet's namespace) and checks its haproxy.cfg with ValidateConfig.
// The config's violations have the Source "configmap/NAME:haproxy.cfg"; a missing ConfigMap or
// key is a violation of RuleConfigVolume, other keys of RuleConfigKeys, a config larger than
// MaxConfigBytes of RuleObjectSize (and is not parsed). The error is get's, wrapped; get may be nil, and then
// the ConfigMap is not checked, nor when get returns ErrValidated.
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
	if errors.Is(err, ErrValidated) {
		vs, more := First(vs, max)
		return vs, more, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get ConfigMap %s/%s: %w", ds.Namespace, name, err)
	}
	cfg, more := ValidateMountedConfig(ds.Namespace, name, volumeSource(ds, name), cm, p, max)
	vs, cut := First(append(vs, cfg...), max)
	return vs, more + cut, nil
}

// ValidateMountedConfig checks the ConfigMap name of namespace that a proxy mounts as its config,
// as ValidateProxy does (cm is what get returned: nil when it does not exist; source is the field
// path of the volume that mounts it): a missing ConfigMap or haproxy.cfg key is a violation of
// RuleConfigVolume with that Source, other keys of RuleConfigKeys, a config larger than
// MaxConfigBytes of RuleObjectSize (not parsed), and the config's violations have the Source
// "configmap/NAME:haproxy.cfg". It returns the first max violations (all when max <= 0) and how
// many more there are. The pod validator applies it to the ConfigMaps a proxy's pod mounts.
func ValidateMountedConfig(namespace, name, source string, cm *corev1.ConfigMap, p *Policy, max int) ([]Violation, int) {
	text, ok := ConfigText(cm)
	switch {
	case cm == nil:
		return []Violation{{Source: source, Rule: RuleConfigVolume,
			Message: fmt.Sprintf("the ConfigMap %s does not exist in namespace %s, so the proxy's config cannot be checked: "+
				"create ConfigMap %s labelled %s=%s before the DaemonSet", name, namespace, name, names.ConfigLabel, names.ConfigLabelValue)}}, 0
	case !ok:
		return []Violation{{Source: source, Rule: RuleConfigVolume,
			Message: fmt.Sprintf("the ConfigMap %s has no %s key", name, names.ConfigKey)}}, 0
	}
	vs := otherKeys(cm, "configmap/"+name)
	if v := configSize(text, "configmap/"+name+":"+names.ConfigKey); v != nil {
		return First(append(vs, *v), max)
	}
	cfg, more := ValidateConfigN(text, p, max)
	for _, v := range cfg {
		v.Source = "configmap/" + name + ":" + names.ConfigKey
		vs = append(vs, v)
	}
	vs, cut := First(vs, max)
	return vs, more + cut
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
