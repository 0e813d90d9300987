package admission

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/metrics-proxy/injector/webhook/inject"
)

// configHash returns the config hash that ds (as decoded from the review, before injection)
// gets on its pod template: inject.ConfigHash of the ConfigMap it will mount, extended with the
// frontend certificate Secret (metrics-proxy.io/tls-secret) when h.Secrets reads them
// (inject.ConfigHashWithSecret; a missing Secret counts as none), so that a freshly injected
// proxy carries the hash the rollout controller would write.
//
// The ConfigMap's hash comes from h.ConfigHashes (a cache of the labelled proxy ConfigMaps'
// hashes, see TrimToConfigHash) when it holds the ConfigMap, and from a live read of h.ConfigMaps
// otherwise: a ConfigMap applied just before its DaemonSet, or one not labelled
// metrics-proxy.io/config=haproxy, is still found. A cached hash is taken only when the
// DaemonSet carries no config hash yet or the same one: a DaemonSet that carries another (the
// rollout controller's write of a new config, which it read live, or a user's update racing a
// ConfigMap edit) makes the read live, so that a cache behind a ConfigMap write never overwrites
// a newer hash. A new DaemonSet created while the cache is behind an edit of its ConfigMap (the
// watch's lag, milliseconds) gets the previous hash, which the rollout controller then corrects.
//
// It returns "" (the template's hash stays as it is) when there is no live reader, the
// annotations are invalid (injection reports that), the ConfigMap does not exist yet, or a read
// fails or takes longer than AdvisoryTimeout (the API server away): the rollout controller sets
// the hash once the objects are there, so a late read never costs the admission.
func (h *DaemonSetInjector) configHash(ctx context.Context, namespace string, ds *appsv1.DaemonSet) string {
	if h.ConfigMaps == nil {
		return ""
	}
	s, err := inject.ParseSettings(ds.Annotations, "")
	if err != nil {
		return ""
	}
	secret := func() (*corev1.Secret, bool) { return h.secret(ctx, namespace, s) }
	// A cached ConfigMap without haproxy.cfg is read live: the filler may have just written it
	// (the audit re-applies a proxy's ConfigMap and then its DaemonSet).
	if base, ok := cachedConfigHash(ctx, h.ConfigHashes, namespace, s.ConfigMap); ok && base != "" {
		sec, ok := secret()
		if !ok {
			return ""
		}
		hash := inject.CombineConfigHash(base, sec)
		if have := inject.TemplateConfigHash(ds); have == "" || have == hash {
			configHashReads.WithLabelValues("cache").Inc()
			return hash
		}
	}
	configHashReads.WithLabelValues("live").Inc()
	var cm corev1.ConfigMap
	err = bounded(ctx, AdvisoryTimeout, "get ConfigMap "+s.ConfigMap, func(ctx context.Context) error {
		return h.ConfigMaps.Get(ctx, client.ObjectKey{Namespace: namespace, Name: s.ConfigMap}, &cm)
	})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			logf.FromContext(ctx).Error(err, "read the proxy's ConfigMap for its config hash", "configMap", s.ConfigMap)
		}
		return ""
	}
	sec, ok := secret()
	if !ok {
		return ""
	}
	return inject.ConfigHashWithSecret(&cm, sec)
}

// secret reads the frontend certificate Secret the config hash includes: nil when Secrets are
// not read, no TLS frontend mounts one, or it does not exist (yet); false when the read failed.
func (h *DaemonSetInjector) secret(ctx context.Context, namespace string, s inject.Settings) (*corev1.Secret, bool) {
	if h.Secrets == nil || s.TLSSecret == "" || len(s.TLS) == 0 { // no TLS frontend mounts no Secret
		return nil, true
	}
	var secret corev1.Secret
	err := bounded(ctx, AdvisoryTimeout, "get Secret "+s.TLSSecret, func(ctx context.Context) error {
		return h.Secrets.Get(ctx, client.ObjectKey{Namespace: namespace, Name: s.TLSSecret}, &secret)
	})
	switch {
	case apierrors.IsNotFound(err):
		return nil, true
	case err != nil:
		logf.FromContext(ctx).Error(err, "read the proxy's frontend certificate Secret for its config hash", "secret", s.TLSSecret)
		return nil, false
	}
	return &secret, true
}
