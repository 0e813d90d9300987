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

// TestConfigHashWithSecret: the frontend certificate Secret's tls.crt and tls.key extend the
// hash; no Secret (or no config) leaves ConfigHash as it is; other keys and metadata do not count.
func TestConfigHashWithSecret(t *testing.T) {
	cm := &corev1.ConfigMap{Data: map[string]string{names.ConfigKey: "defaults\n"}}
	secret := func(crt, key string, extra map[string][]byte) *corev1.Secret {
		s := &corev1.Secret{Data: map[string][]byte{corev1.TLSCertKey: []byte(crt), corev1.TLSPrivateKeyKey: []byte(key)}}
		for k, v := range extra {
			s.Data[k] = v
		}
		return s
	}
	with := inject.ConfigHashWithSecret(cm, secret("crt", "key", nil))
	require.Len(t, with, 16)
	tests := []struct {
		name   string
		cm     *corev1.ConfigMap
		secret *corev1.Secret
		want   string
	}{
		{"no Secret: the config's hash", cm, nil, inject.ConfigHash(cm)},
		{"no config: nothing to roll for", nil, secret("crt", "key", nil), ""},
		{"other keys do not count", cm, secret("crt", "key", map[string][]byte{"ca.crt": []byte("x")}), with},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, inject.ConfigHashWithSecret(tt.cm, tt.secret))
		})
	}
	assert.NotEqual(t, inject.ConfigHash(cm), with, "the Secret counts")
	assert.NotEqual(t, with, inject.ConfigHashWithSecret(cm, secret("crt2", "key", nil)), "a renewed certificate changes the hash")
	assert.NotEqual(t, with, inject.ConfigHashWithSecret(cm, secret("crt", "key2", nil)), "a new key changes the hash")
	assert.NotEqual(t, inject.ConfigHashWithSecret(cm, secret("ab", "c", nil)), inject.ConfigHashWithSecret(cm, secret("a", "bc", nil)),
		"bytes moved between tls.crt and tls.key change the hash")
	other := &corev1.ConfigMap{Data: map[string]string{names.ConfigKey: "defaults\n "}}
	assert.NotEqual(t, with, inject.ConfigHashWithSecret(other, secret("crt", "key", nil)), "the config still counts")
}

// TestMountedTLSSecret: the Secret of the frontend certificate volume injection writes for
// metrics-proxy.io/tls-secret; none for the per-node certificate (an emptyDir) or no TLS.
func TestMountedTLSSecret(t *testing.T) {
	stub := func(annotations map[string]string) *appsv1.DaemonSet {
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "proxy", Namespace: "ns", Annotations: annotations}}
		require.NoError(t, inject.DaemonSet(ds, inject.Config{Version: "v"}))
		return ds
	}
	assert.Equal(t, "frontend", inject.MountedTLSSecret(stub(map[string]string{names.TLSSecretAnnotation: "frontend"})))
	assert.Empty(t, inject.MountedTLSSecret(stub(nil)), "the per-node certificate")
	assert.Empty(t, inject.MountedTLSSecret(stub(map[string]string{names.TLSAnnotation: names.TLSNone})), "no TLS frontend")
}
