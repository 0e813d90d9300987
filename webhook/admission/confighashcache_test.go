package admission_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestTrimToConfigHash: the config-hash cache keeps a ConfigMap's identity and the hash of its
// haproxy.cfg (from data or binaryData, as inject.ConfigHash reads it), and nothing of its data,
// labels or annotations.
func TestTrimToConfigHash(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "proxy", Namespace: "monitoring", UID: "u", ResourceVersion: "7",
		Labels:      map[string]string{names.ConfigLabel: names.ConfigLabelValue, "team": "a"},
		Annotations: map[string]string{"example.com/pad": "xxxx", "metrics-proxy.io/cached-config-hash": "forged"}}
	tests := []struct {
		name string
		cm   corev1.ConfigMap
	}{
		{"data", corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{names.ConfigKey: "global\n", "other": "x"}}},
		{"binaryData", corev1.ConfigMap{ObjectMeta: meta, BinaryData: map[string][]byte{names.ConfigKey: []byte("global\n")}}},
		{"no haproxy.cfg", corev1.ConfigMap{ObjectMeta: meta, Data: map[string]string{"other": "x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := inject.ConfigHash(&tt.cm)
			out, err := admission.TrimToConfigHash(tt.cm.DeepCopy())
			require.NoError(t, err)
			cm, ok := out.(*corev1.ConfigMap)
			require.True(t, ok)
			assert.Equal(t, metav1.ObjectMeta{Name: "proxy", Namespace: "monitoring", UID: "u", ResourceVersion: "7",
				Annotations: cm.Annotations}, cm.ObjectMeta, "only the identity is kept")
			assert.Nil(t, cm.Data)
			assert.Nil(t, cm.BinaryData)
			if want == "" {
				assert.Empty(t, cm.Annotations, "no hash, and the forged one is gone")
			} else {
				assert.Equal(t, map[string]string{"metrics-proxy.io/cached-config-hash": want}, cm.Annotations)
			}
			again, err := admission.TrimToConfigHash(cm.DeepCopy())
			require.NoError(t, err)
			assert.Equal(t, cm, again, "trimmed twice (client-go's initial list): the hash is kept")
		})
	}
	tombstone := "not a ConfigMap"
	out, err := admission.TrimToConfigHash(tombstone)
	require.NoError(t, err)
	assert.Equal(t, tombstone, out)
}
