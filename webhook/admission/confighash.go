package admission

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/metrics-proxy/injector/webhook/inject"
)

// configHash reads the ConfigMap that a DaemonSet with these annotations will mount and returns
// inject.ConfigHash of it, so that a freshly injected proxy carries the hash the rollout
// controller would write. It returns "" (the template's hash stays as it is) when there is no
// reader, the annotations are invalid (injection reports that), the ConfigMap does not exist
// yet, or the read fails: the rollout controller sets the hash once the ConfigMap is there.
func configHash(ctx context.Context, r client.Reader, namespace string, annotations map[string]string) string {
	if r == nil {
		return ""
	}
	s, err := inject.ParseSettings(annotations, "")
	if err != nil {
		return ""
	}
	var cm corev1.ConfigMap
	if err := r.Get(ctx, client.ObjectKey{Namespace: namespace, Name: s.ConfigMap}, &cm); err != nil {
		if !apierrors.IsNotFound(err) {
			logf.FromContext(ctx).Error(err, "read the proxy's ConfigMap for its config hash", "configMap", s.ConfigMap)
		}
		return ""
	}
	return inject.ConfigHash(&cm)
}
