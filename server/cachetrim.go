package server

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// What the cache keeps of an object is decided on what the readers (admission look-ups, the
// audit, re-injection, the rollout controller) read of it, never on what its writer chose to
// put in it: see the comment of cacheOptions.

// Bounds on the value of an annotation of ours that the cache keeps; a longer value is replaced
// by tooLong(bound), which every reader treats as invalid (not a component list, name, image
// reference, TLS setting, status or audit JSON). The audit annotation is the controller's own
// findings (at most a few KiB); the others are names, lists and a short JSON status.
const (
	maxAnnotation      = 1 << 10
	maxAuditAnnotation = 16 << 10
)

// cachedAnnotations are the annotations of ours a DaemonSet keeps in the cache, with their bound.
var cachedAnnotations = map[string]int{
	names.StatusAnnotation:     maxAnnotation,
	names.ComponentsAnnotation: maxAnnotation,
	names.ConfigMapAnnotation:  maxAnnotation,
	names.ImageAnnotation:      maxAnnotation,
	names.TLSAnnotation:        maxAnnotation,
	names.TLSSecretAnnotation:  maxAnnotation,
	names.AuditAnnotation:      maxAuditAnnotation,
}

// tooLong is the value the cache keeps of an annotation longer than bound bytes.
func tooLong(bound int) string {
	return fmt.Sprintf("(over %d bytes: not kept by the metrics-proxy cache)", bound)
}

// trimMeta drops managedFields and the last-applied configuration of any cached object; the
// metadata of a ConfigMap or a Secret (the rollout controller's metadata-only watches) is cut to
// trimmedMeta.
func trimMeta(obj any) (any, error) {
	if p, ok := obj.(*metav1.PartialObjectMetadata); ok && (p.Kind == "ConfigMap" || p.Kind == "Secret") {
		p.ObjectMeta = trimmedMeta(&p.ObjectMeta, nil, map[string]string{names.ConfigLabel: ""})
		return p, nil
	}
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
		if a := m.GetAnnotations(); a != nil {
			delete(a, lastApplied)
		}
	}
	return obj, nil
}

// trimmedMeta is what the cache keeps of m: its identity, version and deletion, the labels named
// in labels and the annotations named in annotations (with their bound; 0: none).
func trimmedMeta(m *metav1.ObjectMeta, annotations map[string]int, labels map[string]string) metav1.ObjectMeta {
	out := metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		Generation: m.Generation, CreationTimestamp: m.CreationTimestamp, DeletionTimestamp: m.DeletionTimestamp}
	for k, v := range m.Labels {
		if _, ok := labels[k]; ok {
			if out.Labels == nil {
				out.Labels = map[string]string{}
			}
			out.Labels[k] = v
		}
	}
	for k, v := range m.Annotations {
		bound, ok := annotations[k]
		if !ok {
			continue
		}
		if len(v) > bound {
			v = tooLong(bound)
		}
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[k] = v
	}
	return out
}

// isProxy reports whether the webhook and the controllers treat ds as a proxy: labelled
// metrics-proxy.io/inject=true or carrying the status annotation, and not opted out (as
// admission's mountedByProxy, the audit and the rollout controller decide).
func isProxy(ds *appsv1.DaemonSet) bool {
	_, injected := ds.Annotations[names.StatusAnnotation]
	return !inject.OptedOut(ds) && (injected || ds.Labels[names.InjectLabel] == "true")
}

// trimDaemonSet keeps of a DaemonSet what is read of it: trimmedMeta with our annotations and
// the inject label, and the whole spec of a proxy; of any other DaemonSet no spec at all (the
// mounted-ConfigMap indexes serve look-ups that skip DaemonSets that are no proxy).
func trimDaemonSet(obj any) (any, error) {
	ds, ok := obj.(*appsv1.DaemonSet)
	if !ok {
		return trimMeta(obj) // a tombstone
	}
	meta := trimmedMeta(&ds.ObjectMeta, cachedAnnotations, map[string]string{names.InjectLabel: ""})
	if isProxy(ds) {
		ds.ObjectMeta = meta
		return ds, nil
	}
	return &appsv1.DaemonSet{TypeMeta: ds.TypeMeta, ObjectMeta: meta}, nil
}

var (
	_ toolscache.TransformFunc = trimDaemonSet
	_ toolscache.TransformFunc = trimMeta
)
