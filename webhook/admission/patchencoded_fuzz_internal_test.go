package admission

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/require"
	jsonpatch4 "gopkg.in/evanphx/json-patch.v4"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/metrics-proxy/injector/webhook/inject"
)

// fuzzDaemonSet is a DaemonSet built from fuzzed strings: a user's haproxy container with a
// command, env, privileges, mounts and host ports, another container (whose name may be haproxy),
// labels, annotations, a host path volume, tolerations; mode picks the containers, a selector and
// one more annotation (one of ours, when ann names one).
func fuzzDaemonSet(k1, v1, name2, v2, ann string, mode uint8) appsv1.DaemonSet {
	hap := corev1.Container{Name: "haproxy", Image: v2, Command: []string{v1, k1}, Args: []string{v2},
		Env:             []corev1.EnvVar{{Name: k1, Value: v1}},
		SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
		VolumeMounts:    []corev1.VolumeMount{{Name: v1, MountPath: v2}},
		Ports:           []corev1.ContainerPort{{Name: k1, ContainerPort: 1, HostPort: 2}}}
	other := corev1.Container{Name: name2, Image: v1, Env: []corev1.EnvVar{{Name: v2, Value: k1}}}
	var cs []corev1.Container
	switch mode % 4 {
	case 0:
		cs = []corev1.Container{hap}
	case 1:
		cs = []corev1.Container{other, hap}
	case 2:
		cs = []corev1.Container{other}
	case 3:
		cs = nil
	}
	ds := appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "m", Labels: map[string]string{k1: v1}, Annotations: map[string]string{k1: v1, "x/" + v2: k1}},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{v1: v2}, Labels: map[string]string{"a": k1}},
			Spec: corev1.PodSpec{Containers: cs, NodeSelector: map[string]string{k1: v2},
				Volumes:     []corev1.Volume{{Name: v1, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: v2}}}},
				Tolerations: []corev1.Toleration{{Key: v1, Value: k1}}}}},
	}
	if mode&4 != 0 {
		ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{k1: v1}}
	}
	if mode&8 != 0 {
		ds.Annotations[ann] = v2
	}
	return ds
}

// applyBoth applies the JSON patch resp to raw with evanphx/json-patch v5 and v4 (the API
// server's); both nil when either fails.
func applyBoth(t *testing.T, raw []byte, resp []byte) ([]byte, []byte) {
	p5, err := jsonpatch.DecodePatch(resp)
	require.NoError(t, err)
	o5, err5 := p5.Apply(raw)
	p4, err := jsonpatch4.DecodePatch(resp)
	require.NoError(t, err)
	o4, err4 := p4.Apply(raw)
	if err5 != nil || err4 != nil {
		t.Logf("apply: v5 %v v4 %v (patch %s)", err5, err4, resp)
		return nil, nil
	}
	return o5, o4
}

// normalJSON is data decoded and encoded again: keys sorted.
func normalJSON(t *testing.T, data []byte) string {
	var v any
	require.NoError(t, json.Unmarshal(data, &v))
	out, err := json.Marshal(v)
	require.NoError(t, err)
	return string(out)
}

// FuzzEncodedPatchMatchesMerge: a DaemonSet as the types write it (patched by comparing bytes)
// and the same DaemonSet written otherwise (patched from the merged trees) get patches that
// both turn it into DaemonSetJSON's result, with either JSON patch library.
func FuzzEncodedPatchMatchesMerge(f *testing.F) {
	f.Add("a/b", "\"]},{[<", "haproxy", "x~y", "metrics-proxy.io/components", uint8(0))
	f.Add("k", "v", "haproxy", "haproxy:3.0", "metrics-proxy.io/image", uint8(9))
	f.Add("", "", "", "", "metrics-proxy.io/status", uint8(13))
	f.Add("metrics-proxy.io/inject", "true", "w", "\\", "metrics-proxy.io/tls", uint8(5))
	f.Fuzz(func(t *testing.T, k1, v1, name2, v2, ann string, mode uint8) {
		for _, s := range []string{k1, v1, name2, v2, ann} {
			if !utf8.ValidString(s) {
				return
			}
		}
		ds := fuzzDaemonSet(k1, v1, name2, v2, ann, mode)
		typed, err := json.Marshal(&ds)
		require.NoError(t, err)
		// the old path: the same document, not as the types write it
		loose := append([]byte("{ "), typed[1:]...)
		cfg := inject.Config{Version: "test", ConfigHash: "0123456789abcdef"}
		conf := func(*appsv1.DaemonSet) (inject.Config, error) { return cfg, nil }
		resN, errN := inject.DaemonSetTree(typed, conf)
		resO, errO := inject.DaemonSetTree(loose, conf)
		if (errN == nil) != (errO == nil) {
			t.Fatalf("paths disagree on error: new %v old %v", errN, errO)
		}
		if errN != nil {
			return
		}
		_, _, enc := resN.Encoded()
		require.True(t, enc || resN.Unchanged())
		want, err := inject.DaemonSetJSON(typed, cfg)
		require.NoError(t, err)
		respN := patchResponse(&resN)
		respO := patchResponse(&resO)
		require.Equal(t, respO.Allowed, respN.Allowed, "%v %v", respN.Result, respO.Result)
		require.True(t, respN.Allowed, "%v", respN.Result)
		pN, err := json.Marshal(respN.Patches)
		require.NoError(t, err)
		pO, err := json.Marshal(respO.Patches)
		require.NoError(t, err)
		if len(respN.Patches) == 0 {
			require.True(t, bytes.Equal(want, typed) || normalJSON(t, want) == normalJSON(t, typed))
			require.Empty(t, respO.Patches, "old path patches %s", pO)
			return
		}
		n5, n4 := applyBoth(t, typed, pN)
		o5, o4 := applyBoth(t, loose, pO)
		if n5 == nil || o5 == nil {
			require.Equal(t, n5 == nil, o5 == nil, "only one path's patch applies: new %s old %s", pN, pO)
			return
		}
		w := normalJSON(t, want)
		require.Equal(t, w, normalJSON(t, n5), "new v5; patch %s", pN)
		require.Equal(t, w, normalJSON(t, n4), "new v4; patch %s", pN)
		require.Equal(t, w, normalJSON(t, o5), "old v5; patch %s", pO)
		require.Equal(t, w, normalJSON(t, o4), "old v4; patch %s", pO)
	})
}
