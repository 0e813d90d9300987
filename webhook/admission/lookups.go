package admission

import (
	"context"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// injectionEnabled reports whether namespace carries metrics-proxy.io/injection=enabled, read
// within LookupTimeout; a nil reader knows no enabled namespace.
func injectionEnabled(ctx context.Context, namespaces client.Reader, namespace string) (bool, error) {
	if namespaces == nil {
		return false, nil
	}
	ns := metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	err := bounded(ctx, LookupTimeout, "get namespace "+namespace, func(ctx context.Context) error {
		return namespaces.Get(ctx, client.ObjectKey{Name: namespace}, &ns)
	})
	if err != nil {
		return false, err
	}
	return ns.Labels[names.NamespaceInjectionLabel] == "enabled", nil
}

// mountedByProxy reports whether a proxy DaemonSet in namespace has a configMap volume (or a
// projected source) of the ConfigMap name, read within LookupTimeout from daemonSets: a cache with
// the IndexMountedConfigMaps index, so that the look-up costs the DaemonSets that mount name and
// nothing else. A proxy is a DaemonSet labelled metrics-proxy.io/inject=true or one the injector
// completed (it carries the status annotation, as after its namespace lost
// metrics-proxy.io/injection=enabled) and not opted out: the rollout controller rolls such a
// proxy's pods on every change of its config, so that config stays checked. A cache that has not
// synced yet makes the look-up wait, and fail at LookupTimeout.
func mountedByProxy(ctx context.Context, daemonSets client.Reader, namespace, name string) (bool, error) {
	var list appsv1.DaemonSetList
	err := bounded(ctx, LookupTimeout, "find the DaemonSets of namespace "+namespace+" that mount "+name, func(ctx context.Context) error {
		return daemonSets.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{IndexMountedConfigMaps: name})
	})
	if err != nil {
		return false, err
	}
	for i := range list.Items {
		ds := &list.Items[i]
		_, injected := ds.Annotations[names.StatusAnnotation]
		if inject.OptedOut(ds) || (!injected && ds.Labels[names.InjectLabel] != "true") {
			continue
		}
		if slices.Contains(MountedConfigMaps(ds), name) {
			return true, nil
		}
	}
	return false, nil
}
