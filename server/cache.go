package server

import (
	"context"
	"fmt"
	"net/http"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/metrics-proxy/injector/webhook/admission"
)

// The informer cache is one per replica, shared by the admission handlers (Namespaces' labels,
// the proxies that mount a ConfigMap) and, on the leader, the day-two controllers (DaemonSets,
// ConfigMaps' and Secrets' metadata). It holds every DaemonSet and ConfigMap of the cluster,
// which anyone who may create them shapes, so what it keeps of one is cut to what someone reads
// (cachetrim.go), decided on what makes a proxy, never on what a writer may add:
//
//   - every object loses metadata.managedFields and the kubectl last-applied-configuration
//     annotation (a copy of the object as applied, as large as the object);
//   - a DaemonSet keeps its name, namespace, uid, resourceVersion, generation, creation and
//     deletion times, the label metrics-proxy.io/inject (the only one read: selection, opt-out,
//     proxy look-ups) and our known annotations (status, components, config-map, image, tls,
//     tls-secret, audit), each bounded (1 KiB, the audit's 16 KiB): a longer one is replaced by
//     a marker that every reader takes as invalid (an invalid annotation, a status or an audit
//     that is not ours: stale), never trusted; all else of its metadata goes;
//   - a proxy (labelled metrics-proxy.io/inject=true or carrying metrics-proxy.io/status, and not
//     opted out with inject=false) keeps its spec whole: the audit checks it against the policy
//     and hashes what injection wrote; the rollout controller patches its pod template;
//   - any other DaemonSet keeps no spec at all: nobody reads it. The audit reports a selected
//     DaemonSet that was never injected from its label and namespace, re-injection writes an
//     empty patch, the rollout controller skips it, and the ConfigMap validator's look-up of the
//     DaemonSets mounting a ConfigMap (the mounted-ConfigMap index) skips it too. It costs every
//     replica its metadata as above: a few hundred bytes, 23 KiB at most, whatever its size;
//   - the metadata of a ConfigMap or a Secret (the rollout controller's metadata-only watches,
//     which map one to the DaemonSets mounting it by namespace and name) keeps name, namespace,
//     uid, resourceVersion, generation, creation and deletion times and the label
//     metrics-proxy.io/config: no annotation, no other label (a few hundred bytes each).
//
// A DaemonSet that changes (a label added, injected) comes back through the watch and is kept
// as its new self.

// cacheOptions are the manager's cache options: the transforms above.
func cacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: trimMeta,
		ByObject:         map[client.Object]cache.ByObject{&appsv1.DaemonSet{}: {Transform: trimDaemonSet}},
	}
}

// lastApplied is the annotation kubectl apply writes.
const lastApplied = corev1.LastAppliedConfigAnnotation

// admissionInformers are the objects whose informers the admission handlers read.
func admissionInformers() []client.Object {
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	return []client.Object{&appsv1.DaemonSet{}, ns}
}

// prepareCache registers the admission index and creates the informers the handlers read before
// the cache starts. The manager then starts the runnables that run on every replica (the
// certificate source, the policy watcher, the API server probe) only once they have synced.
func prepareCache(ctx context.Context, mgr manager.Manager) error {
	if err := admission.IndexDaemonSets(ctx, mgr.GetFieldIndexer()); err != nil {
		return err
	}
	for _, obj := range admissionInformers() {
		if _, err := mgr.GetCache().GetInformer(ctx, obj); err != nil {
			return fmt.Errorf("informer: %w", err)
		}
	}
	return nil
}

// cacheSynced is the /readyz check "informers": ready once the informers the admission handlers
// read have synced, so that a replica takes no review that its look-ups would answer from an
// empty cache (they would wait for it, up to the look-up timeout, and fail). Informers the
// leader's controllers add later do not count: a new leader stays ready while they sync.
func cacheSynced(c cache.Cache) healthz.Checker {
	return func(req *http.Request) error {
		for _, obj := range admissionInformers() {
			inf, err := c.GetInformer(req.Context(), obj, cache.BlockUntilSynced(false))
			if err != nil {
				return fmt.Errorf("informer: %w", err)
			}
			if !inf.HasSynced() {
				return fmt.Errorf("the %T informer has not synced yet", obj)
			}
		}
		return nil
	}
}
