package inject

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// TestFrontendCert: where the TLS frontends' certificate comes from, per annotation.
func TestFrontendCert(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		// wantVolume: "emptyDir", "secret" or "" (no certificate volume); wantInit: proxy-cert runs.
		wantVolume string
		wantInit   bool
		wantMount  bool
	}{
		{name: "default: per-node certificate", wantVolume: "emptyDir", wantInit: true, wantMount: true},
		{name: "tls none: nothing", annotations: map[string]string{names.TLSAnnotation: "none"}},
		{name: "only kube-proxy proxied: no TLS by default", annotations: map[string]string{names.ComponentsAnnotation: "kube-proxy"}},
		{name: "tls on kube-proxy", annotations: map[string]string{names.ComponentsAnnotation: "kube-proxy", names.TLSAnnotation: "kube-proxy"},
			wantVolume: "emptyDir", wantInit: true, wantMount: true},
		{name: "tls-secret: the Secret, no init container", annotations: map[string]string{names.TLSSecretAnnotation: "proxy-tls"},
			wantVolume: "secret", wantMount: true},
		{name: "tls-secret without a TLS frontend: nothing", annotations: map[string]string{names.TLSSecretAnnotation: "proxy-tls", names.TLSAnnotation: "none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := stub(func(ds *appsv1.DaemonSet) { ds.Annotations = tt.annotations })
			require.NoError(t, DaemonSet(ds, Config{InjectorImage: "example.com/metrics-proxy:v1"}))
			spec := ds.Spec.Template.Spec
			vol := findCertVolume(spec.Volumes)
			switch tt.wantVolume {
			case "":
				assert.Nil(t, vol)
			case "emptyDir":
				require.NotNil(t, vol)
				require.NotNil(t, vol.EmptyDir)
				assert.Equal(t, corev1.StorageMediumMemory, vol.EmptyDir.Medium)
			case "secret":
				require.NotNil(t, vol)
				require.NotNil(t, vol.Secret)
				assert.Equal(t, "proxy-tls", vol.Secret.SecretName)
				assert.Equal(t, []corev1.KeyToPath{{Key: "tls.crt", Path: "frontend.pem"}, {Key: "tls.key", Path: "frontend.pem.key"}}, vol.Secret.Items)
			}
			init := findInit(spec.InitContainers)
			if tt.wantInit {
				require.NotNil(t, init)
				assert.Equal(t, "example.com/metrics-proxy:v1", init.Image)
				assert.Equal(t, []string{"proxy-cert", "--ip", "$(NODE_IP)", "--out", names.CertFile}, init.Args)
				assert.Equal(t, *spec.Containers[0].SecurityContext.RunAsUser, *init.SecurityContext.RunAsUser, "haproxy must read the key")
			} else {
				assert.Nil(t, init)
			}
			var mounted bool
			for _, m := range spec.Containers[0].VolumeMounts {
				if m.Name == names.CertVolume {
					mounted = true
					assert.Equal(t, names.CertDir, m.MountPath)
					assert.True(t, m.ReadOnly)
				}
			}
			assert.Equal(t, tt.wantMount, mounted)

			again := ds.DeepCopy()
			require.NoError(t, DaemonSet(again, Config{InjectorImage: "example.com/metrics-proxy:v1"}))
			assert.Equal(t, ds, again, "re-injection changes nothing")
		})
	}
}

// TestFrontendCertSwitchedOff: turning TLS off removes the init container and the volume the
// injector added, and keeps the user's own.
func TestFrontendCertSwitchedOff(t *testing.T) {
	ds := stub(func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "mine", Image: "busybox:1"}}
	})
	require.NoError(t, DaemonSet(ds, testConfig))
	require.Len(t, ds.Spec.Template.Spec.InitContainers, 2)
	ds.Annotations[names.TLSAnnotation] = "none"
	require.NoError(t, DaemonSet(ds, testConfig))
	spec := ds.Spec.Template.Spec
	assert.Equal(t, []corev1.Container{{Name: "mine", Image: "busybox:1"}}, spec.InitContainers)
	assert.Nil(t, findCertVolume(spec.Volumes))
	require.Len(t, spec.Volumes, 1)
}
