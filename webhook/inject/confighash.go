package inject

import (
	"crypto/sha256"
	"encoding/binary"
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

// ConfigHashWithSecret is ConfigHash of cm extended with the frontend certificate Secret the
// proxy serves (metrics-proxy.io/tls-secret): a renewed certificate (tls.crt, tls.key) changes
// it, so that the proxies roll onto it. A nil secret gives ConfigHash(cm) (the Secret is not
// watched, or does not exist yet), and so does an empty ConfigMap hash: nothing to roll for.
func ConfigHashWithSecret(cm *corev1.ConfigMap, secret *corev1.Secret) string {
	return CombineConfigHash(ConfigHash(cm), secret)
}

// CombineConfigHash is ConfigHashWithSecret for a ConfigMap whose ConfigHash is base (a cache
// that keeps only the hash of a ConfigMap).
func CombineConfigHash(base string, secret *corev1.Secret) string {
	if base == "" || secret == nil {
		return base
	}
	h := sha256.New()
	for _, part := range [][]byte{[]byte(base), secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey]} {
		// Each part with its length: no two different triples hash alike.
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// MountedTLSSecret returns the name of the Secret that ds's frontend certificate volume mounts
// (metrics-proxy.io/tls-secret at injection), or "" when it has none.
func MountedTLSSecret(ds *appsv1.DaemonSet) string {
	for _, v := range ds.Spec.Template.Spec.Volumes {
		if v.Name == names.CertVolume && v.Secret != nil {
			return v.Secret.SecretName
		}
	}
	return ""
}
