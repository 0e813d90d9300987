package inject_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestConfigHash: the hash follows haproxy.cfg only, from data or binaryData alike, and is empty
// when there is no config.
func TestConfigHash(t *testing.T) {
	cm := func(data map[string]string, binary map[string][]byte) *corev1.ConfigMap {
		return &corev1.ConfigMap{Data: data, BinaryData: binary}
	}
	base := inject.ConfigHash(cm(map[string]string{names.ConfigKey: "defaults\n"}, nil))
	require.Len(t, base, 16)
	tests := []struct {
		name string
		cm   *corev1.ConfigMap
		want string
	}{
		{"nil", nil, ""},
		{"no haproxy.cfg", cm(map[string]string{"other": "x"}, nil), ""},
		{"binaryData hashes like data", cm(nil, map[string][]byte{names.ConfigKey: []byte("defaults\n")}), base},
		{"other keys do not count", cm(map[string]string{names.ConfigKey: "defaults\n", "notes": "x"}, nil), base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, inject.ConfigHash(tt.cm))
		})
	}
	assert.NotEqual(t, base, inject.ConfigHash(cm(map[string]string{names.ConfigKey: "defaults\n "}, nil)), "one byte changes the hash")
}

// TestDaemonSetConfigHash: injection writes the hash it is given on the pod template, keeps the
// template's hash when given none, and the status annotation does not depend on it (a config
// change is not a new injection).
func TestDaemonSetConfigHash(t *testing.T) {
	stub := func() *appsv1.DaemonSet {
		return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "proxy", Namespace: "ns"}}
	}
	a, b := stub(), stub()
	require.NoError(t, inject.DaemonSet(a, inject.Config{Version: "v", ConfigHash: "aaaa"}))
	require.NoError(t, inject.DaemonSet(b, inject.Config{Version: "v", ConfigHash: "bbbb"}))
	assert.Equal(t, "aaaa", inject.TemplateConfigHash(a))
	assert.Equal(t, "bbbb", inject.TemplateConfigHash(b))
	assert.Equal(t, a.Annotations[names.StatusAnnotation], b.Annotations[names.StatusAnnotation])

	require.NoError(t, inject.DaemonSet(a, inject.Config{Version: "v"}))
	assert.Equal(t, "aaaa", inject.TemplateConfigHash(a), "no hash given: the template keeps its own")
	c := stub()
	require.NoError(t, inject.DaemonSet(c, inject.Config{Version: "v"}))
	assert.NotContains(t, c.Spec.Template.Annotations, names.ConfigHashAnnotation)
	assert.Equal(t, names.DefaultConfigMap, inject.MountedConfigMap(c))
	assert.Empty(t, inject.MountedConfigMap(stub()))
}
