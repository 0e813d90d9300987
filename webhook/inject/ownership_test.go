package inject

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/metrics-proxy/injector/webhook/names"
)

func withHAProxy(c corev1.Container) func(*appsv1.DaemonSet) {
	return func(ds *appsv1.DaemonSet) {
		c.Name = names.ContainerName
		ds.Spec.Template.Spec.Containers = []corev1.Container{c}
	}
}

func httpProbe(port int) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/metrics", Port: intstr.FromInt(port)}}}
}

// TestImageOwnership: a user's image on the haproxy container is never replaced silently: it
// moves to the image annotation (kept), or yields to the annotation, with a note either way; an
// image an earlier injection wrote follows the injector's default.
func TestImageOwnership(t *testing.T) {
	injectedWith := func(image string) *appsv1.DaemonSet {
		ds := stub()
		require.NoError(t, DaemonSet(ds, Config{Version: "old", DefaultImage: image}))
		return ds
	}
	tests := []struct {
		name       string
		ds         *appsv1.DaemonSet
		wantImage  string
		annotation string // the image annotation after injection; "" none
		notes      []string
	}{
		{name: "stub without image: the default, no note", ds: stub(), wantImage: names.DefaultImage},
		{name: "user image moves to the annotation", ds: stub(withHAProxy(corev1.Container{Image: "registry.example/haproxy:2.8.5"})),
			wantImage: "registry.example/haproxy:2.8.5", annotation: "registry.example/haproxy:2.8.5",
			notes: []string{"image registry.example/haproxy:2.8.5 kept, moved to the annotation metrics-proxy.io/image"}},
		{name: "the seed's image is kept and its CVE named", ds: stub(withHAProxy(corev1.Container{Image: names.SeedImage})),
			wantImage: names.SeedImage, annotation: names.SeedImage, notes: []string{"CVE-2023-25725"}},
		{name: "the annotation wins over the container's image", ds: stub(withHAProxy(corev1.Container{Image: "a.example/haproxy:1"}), func(ds *appsv1.DaemonSet) {
			ds.Annotations = map[string]string{names.ImageAnnotation: "b.example/haproxy:2"}
		}), wantImage: "b.example/haproxy:2", annotation: "b.example/haproxy:2",
			notes: []string{"image a.example/haproxy:1 replaced by b.example/haproxy:2 from the annotation"}},
		{name: "an earlier injection's default follows the new default, named", ds: injectedWith("old.example/haproxy:1"),
			wantImage: names.DefaultImage, notes: []string{"image old.example/haproxy:1 replaced by " + names.DefaultImage + ", the injector's default"}},
		{name: "the seed image an earlier injection wrote follows the new default", ds: injectedWith(names.SeedImage),
			wantImage: names.DefaultImage, notes: []string{"the injector's default"}},
		{name: "kubectl set image on an injected proxy is the user's", ds: func() *appsv1.DaemonSet {
			ds := injectedWith(names.DefaultImage)
			ds.Spec.Template.Spec.Containers[0].Image = "mine.example/haproxy:3.0"
			return ds
		}(), wantImage: "mine.example/haproxy:3.0", annotation: "mine.example/haproxy:3.0", notes: []string{"moved to the annotation"}},
		{name: "probes kept, exec probe dropped with a note", ds: stub(withHAProxy(corev1.Container{
			ReadinessProbe: httpProbe(10249),
			LivenessProbe:  &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c", "x"}}}},
		})), wantImage: names.DefaultImage, notes: []string{"livenessProbe dropped: an exec probe"}},
		{name: "a probe aimed at another host dropped with a note", ds: stub(withHAProxy(corev1.Container{
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Host: "10.0.0.1", Port: intstr.FromInt32(80)}}},
		})), wantImage: names.DefaultImage, notes: []string{"livenessProbe dropped: it is aimed at another host"}},
		{name: "command and env replaced, named", ds: stub(withHAProxy(corev1.Container{
			Command: []string{"haproxy", "-f", "/tmp/x"}, Env: []corev1.EnvVar{{Name: "NODE_IP", Value: "0.0.0.0"}},
		})), wantImage: names.DefaultImage, notes: []string{"command, env replaced: the injector owns the container"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.ds.DeepCopy()
			notes, err := DaemonSetNotes(tt.ds, testConfig)
			require.NoError(t, err)
			c := findContainer(tt.ds.Spec.Template.Spec.Containers)
			require.NotNil(t, c)
			assert.Equal(t, tt.wantImage, c.Image)
			assert.Equal(t, tt.annotation, tt.ds.Annotations[names.ImageAnnotation])
			require.Len(t, notes, len(tt.notes), "notes: %q", notes)
			for i, want := range tt.notes {
				assert.Contains(t, notes[i], want)
			}
			if old := findContainer(in.Spec.Template.Spec.Containers); old != nil && old.ReadinessProbe != nil {
				assert.Equal(t, old.ReadinessProbe, c.ReadinessProbe, "the readiness probe is kept")
			}
			assert.Nil(t, c.LivenessProbe, "no exec probe, no probe of another host, in any case here survives")

			again, err := DaemonSetNotes(tt.ds, testConfig)
			require.NoError(t, err)
			assert.Empty(t, again, "re-injection notes nothing")
		})
	}
}

func TestImageOwnershipInvalidImage(t *testing.T) {
	_, err := DaemonSetNotes(stub(withHAProxy(corev1.Container{Image: "Not An Image"})), testConfig)
	require.ErrorIs(t, err, ErrInvalidAnnotation)
	assert.Contains(t, err.Error(), `image "Not An Image" is not a valid image reference`)
}

func TestIsProxy(t *testing.T) {
	tests := []struct {
		name string
		ds   *appsv1.DaemonSet
		want bool
	}{
		{"stub without containers", stub(), true},
		{"haproxy container", stub(withHAProxy(corev1.Container{})), true},
		{"config volume only", stub(func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers = []corev1.Container{{Name: "proxy"}}
			ds.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: names.VolumeName}}
		}), true},
		{"node-exporter", stub(func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers = []corev1.Container{{Name: "node-exporter"}, {Name: "kube-rbac-proxy"}}
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, IsProxy(tt.ds))
		})
	}
	note := NotAProxyNote(tests[3].ds)
	assert.Contains(t, note, "DaemonSet monitoring/metrics-proxy (containers: node-exporter, kube-rbac-proxy) is not a metrics proxy")
	assert.Contains(t, note, "metrics-proxy.io/inject=false")
	assert.Contains(t, note, names.DedicatedNamespace)
}
