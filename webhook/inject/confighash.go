package inject

import (
	"crypto/sha256"
	"encoding/hex"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// ConfigHash is the value of the metrics-proxy.io/config-hash annotation for a proxy that mounts
// cm: a hash of its haproxy.cfg (from data or binaryData, as the volume projects it). It is empty
// when cm is nil or has no haproxy.cfg: there is nothing to roll for.
func ConfigHash(cm *corev1.ConfigMap) string {
	if cm == nil {
		return ""
	}
	text, ok := cm.Data[names.ConfigKey]
	if !ok {
		b, ok := cm.BinaryData[names.ConfigKey]
		if !ok {
			return ""
		}
		text = string(b)
	}
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:8])
}

// TemplateConfigHash returns the metrics-proxy.io/config-hash annotation of ds's pod template.
func TemplateConfigHash(ds *appsv1.DaemonSet) string {
	return ds.Spec.Template.Annotations[names.ConfigHashAnnotation]
}

// MountedConfigMap returns the name of the ConfigMap that ds's config volume mounts, or "" when
// it has none (not injected, or the volume is not a ConfigMap).
func MountedConfigMap(ds *appsv1.DaemonSet) string {
	if v := findVolume(ds.Spec.Template.Spec.Volumes); v != nil && v.ConfigMap != nil {
		return v.ConfigMap.Name
	}
	return ""
}

// setConfigHash writes hash on ds's pod template; an empty hash leaves the template as it is.
func setConfigHash(ds *appsv1.DaemonSet, hash string) {
	if hash == "" {
		return
	}
	tmpl := &ds.Spec.Template.ObjectMeta
	if tmpl.Annotations == nil {
		tmpl.Annotations = map[string]string{}
	}
	tmpl.Annotations[names.ConfigHashAnnotation] = hash
}
