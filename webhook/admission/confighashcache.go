package admission

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// The config-hash cache: what the mutating handler reads of the ConfigMap a DaemonSet mounts is
// the hash of its haproxy.cfg, and nothing else. A cache of the ConfigMaps labelled
// metrics-proxy.io/config=haproxy (ProxyConfigSelector), each cut by TrimToConfigHash to its
// identity and that hash, serves it without a read of the API server per review: a tenant's
// 1 MiB ConfigMaps cost each replica a few hundred bytes apiece, whatever their size. The
// validating handler reads only a ConfigMap's identity from it, to find a version it validated
// before (see VerdictCache); the text it validates is read live.

// cachedHashAnnotation is where TrimToConfigHash keeps the hash on the cached ConfigMap: every
// annotation of the ConfigMap as written is dropped, so this one is always the cache's own.
const cachedHashAnnotation = "metrics-proxy.io/cached-config-hash"

// ProxyConfigSelector selects the ConfigMaps the config-hash cache holds: the labelled proxy
// configs.
func ProxyConfigSelector() labels.Selector {
	return labels.SelectorFromSet(labels.Set{names.ConfigLabel: names.ConfigLabelValue})
}

// TrimToConfigHash is the config-hash cache's transform: a ConfigMap becomes its name,
// namespace, uid and resourceVersion, with inject.ConfigHash of its haproxy.cfg in
// cachedHashAnnotation (none when it has no haproxy.cfg). Anything else (a tombstone) is kept as
// it is. It is idempotent: client-go may transform an object of the informer's initial list
// twice, and a ConfigMap it trimmed already (no labels, no data: every ConfigMap the cache
// receives from the API server carries the label it selects by) keeps its hash.
func TrimToConfigHash(obj any) (any, error) {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return obj, nil
	}
	if len(cm.Labels) == 0 && cm.Data == nil && cm.BinaryData == nil {
		return cm, nil
	}
	out := &corev1.ConfigMap{TypeMeta: cm.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: cm.Name, Namespace: cm.Namespace,
		UID: cm.UID, ResourceVersion: cm.ResourceVersion}}
	if h := inject.ConfigHash(cm); h != "" {
		out.Annotations = map[string]string{cachedHashAnnotation: h}
	}
	return out, nil
}

var _ toolscache.TransformFunc = TrimToConfigHash

// cachedConfigHash returns the hash of haproxy.cfg in the ConfigMap namespace/name as the
// config-hash cache holds it ("" for one without haproxy.cfg), and false when the cache does not
// hold it (see cachedConfig).
func cachedConfigHash(ctx context.Context, hashes client.Reader, namespace, name string) (string, bool) {
	cm, ok := cachedConfig(ctx, hashes, namespace, name)
	if !ok {
		return "", false
	}
	return cm.Annotations[cachedHashAnnotation], true
}

// cachedConfig returns the ConfigMap namespace/name as the config-hash cache holds it (cut by
// TrimToConfigHash), and false when the cache does not hold it (not labelled, not there yet, or
// no cache) or cannot answer within AdvisoryTimeout (not synced yet): the caller then reads
// live, still inside the webhook's timeout.
func cachedConfig(ctx context.Context, hashes client.Reader, namespace, name string) (*corev1.ConfigMap, bool) {
	if hashes == nil {
		return nil, false
	}
	var cm corev1.ConfigMap
	err := bounded(ctx, AdvisoryTimeout, "get the cached ConfigMap "+name, func(ctx context.Context) error {
		return hashes.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cm)
	})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			logf.FromContext(ctx).Error(err, "read the config-hash cache", "configMap", name)
		}
		return nil, false
	}
	return &cm, true
}
