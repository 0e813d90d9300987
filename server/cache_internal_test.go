package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestTrimDaemonSet: what the cache keeps of a DaemonSet (see cache.go): the whole spec of a
// proxy only, our known annotations bounded, the inject label only.
func TestTrimDaemonSet(t *testing.T) {
	full := func(labels, annotations map[string]string) *appsv1.DaemonSet {
		return &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "n", UID: "u", ResourceVersion: "7", Generation: 3,
				Labels: labels, Annotations: annotations, Finalizers: []string{"example.com/f"},
				OwnerReferences: []metav1.OwnerReference{{Name: "o"}},
				ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
			Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "a", Env: []corev1.EnvVar{{Name: "PAD", Value: "xxxx"}}}},
				Volumes: []corev1.Volume{
					{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c1"}}}},
					{Name: "e", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				}}}}}
	}
	other := map[string]string{lastApplied: "{...}", "example.com/x": "y", "metrics-proxy.io/anything": "z"}
	withStatus := map[string]string{lastApplied: "{...}", "example.com/x": "y", names.StatusAnnotation: "{}"}
	tests := []struct {
		name        string
		in          *appsv1.DaemonSet
		whole       bool
		labels      map[string]string
		annotations map[string]string
	}{
		{"labelled inject=true: whole", full(map[string]string{names.InjectLabel: "true", "app": "a"}, other), true,
			map[string]string{names.InjectLabel: "true"}, nil},
		{"injected: whole, our annotations only", full(map[string]string{"app": "a"}, withStatus), true,
			nil, map[string]string{names.StatusAnnotation: "{}"}},
		{"opted out: a summary, even injected", full(map[string]string{names.InjectLabel: "false"}, withStatus), false,
			map[string]string{names.InjectLabel: "false"}, map[string]string{names.StatusAnnotation: "{}"}},
		{"an unknown annotation with our prefix: a summary", full(nil, other), false, nil, nil},
		{"inject neither true nor false: a summary", full(map[string]string{names.InjectLabel: "yes"}, nil), false,
			map[string]string{names.InjectLabel: "yes"}, nil},
		{"audited only: a summary keeping the audit", full(nil, map[string]string{names.AuditAnnotation: `{"version":"v"}`}), false,
			nil, map[string]string{names.AuditAnnotation: `{"version":"v"}`}},
		{"unrelated: a summary without its labels", full(map[string]string{"app": "a", "pad.example.com/k": "v"}, other), false, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := trimDaemonSet(tt.in.DeepCopy())
			require.NoError(t, err)
			ds := out.(*appsv1.DaemonSet)
			want := metav1.ObjectMeta{Name: "d", Namespace: "n", UID: "u", ResourceVersion: "7", Generation: 3,
				Labels: tt.labels, Annotations: tt.annotations}
			assert.Equal(t, want, ds.ObjectMeta, "identity, version, our label and annotations; nothing else")
			if tt.whole {
				assert.Equal(t, tt.in.Spec, ds.Spec)
				return
			}
			assert.Equal(t, appsv1.DaemonSetSpec{}, ds.Spec, "a summary keeps no spec")
		})
	}
	tomb, err := trimDaemonSet(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{ManagedFields: []metav1.ManagedFieldsEntry{{}}}})
	require.NoError(t, err)
	assert.Nil(t, tomb.(*corev1.ConfigMap).ManagedFields, "another object: managedFields dropped")
}

// TestTrimDaemonSetBoundsOurAnnotations: an annotation of ours over its bound is replaced by a
// marker that the readers take as invalid: injection settings fail to parse (the audit reports
// the injection as failed), the status and audit are not ours (stale, rewritten).
func TestTrimDaemonSetBoundsOurAnnotations(t *testing.T) {
	long := strings.Repeat("a", maxAnnotation+1)
	for key, bound := range cachedAnnotations {
		t.Run(key, func(t *testing.T) {
			ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "d", Labels: map[string]string{names.InjectLabel: "true"},
				Annotations: map[string]string{key: strings.Repeat("a", bound)}}}
			out, err := trimDaemonSet(ds.DeepCopy())
			require.NoError(t, err)
			assert.Equal(t, ds.Annotations, out.(*appsv1.DaemonSet).Annotations, "at the bound: kept")

			ds.Annotations[key] = strings.Repeat("a", bound+1)
			out, err = trimDaemonSet(ds.DeepCopy())
			require.NoError(t, err)
			got := out.(*appsv1.DaemonSet).Annotations[key]
			assert.Equal(t, tooLong(bound), got, "over the bound: the marker")
			assert.Less(t, len(got), len(long))
			switch key {
			case names.StatusAnnotation, names.AuditAnnotation:
				var v map[string]any
				assert.Error(t, json.Unmarshal([]byte(got), &v), "the marker is no status or audit of ours")
			default:
				_, err := inject.ParseSettings(map[string]string{key: got}, names.DefaultImage)
				assert.ErrorIs(t, err, inject.ErrInvalidAnnotation, "the marker is an invalid setting")
			}
		})
	}
}

// TestTrimMetaOfConfigMapsAndSecrets: the metadata-only caches keep of a ConfigMap or a Secret
// its identity, version and our label; a Namespace keeps its labels.
func TestTrimMetaOfConfigMapsAndSecrets(t *testing.T) {
	meta := func(kind string) *metav1.PartialObjectMetadata {
		p := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "n", UID: "u", ResourceVersion: "9",
			Generation: 2, Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue, "app": "a"},
			Annotations:     map[string]string{"example.com/pad": strings.Repeat("x", 1000), names.TLSAnnotation: "none"},
			OwnerReferences: []metav1.OwnerReference{{Name: "o"}}, ManagedFields: []metav1.ManagedFieldsEntry{{}}}}
		p.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
		return p
	}
	for _, kind := range []string{"ConfigMap", "Secret"} {
		out, err := trimMeta(meta(kind))
		require.NoError(t, err)
		assert.Equal(t, metav1.ObjectMeta{Name: "c", Namespace: "n", UID: "u", ResourceVersion: "9", Generation: 2,
			Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}, out.(*metav1.PartialObjectMetadata).ObjectMeta, kind)
	}
	out, err := trimMeta(meta("Namespace"))
	require.NoError(t, err)
	ns := out.(*metav1.PartialObjectMetadata)
	assert.Equal(t, meta("Namespace").Labels, ns.Labels, "a Namespace keeps its labels (injection, pod security)")
	assert.Nil(t, ns.ManagedFields)
}
