package inject

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

var testConfig = Config{Version: "v0.0.0-test"}

func stub(mods ...func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "metrics-proxy", Namespace: "monitoring"}}
	for _, m := range mods {
		m(ds)
	}
	return ds
}

func TestDaemonSetCompletesStub(t *testing.T) {
	ds := stub()
	require.NoError(t, DaemonSet(ds, testConfig))

	want := map[string]string{appNameLabel: appName, appInstanceLabel: "metrics-proxy"}
	assert.Equal(t, want, ds.Spec.Selector.MatchLabels)
	assert.Equal(t, want, ds.Spec.Template.Labels)

	spec := ds.Spec.Template.Spec
	assert.True(t, spec.HostNetwork)
	assert.Equal(t, corev1.DNSClusterFirstWithHostNet, spec.DNSPolicy)
	assert.Equal(t, []corev1.Toleration{Toleration()}, spec.Tolerations)
	require.Len(t, spec.Containers, 1)
	c := spec.Containers[0]
	assert.Equal(t, names.ContainerName, c.Name)
	assert.Equal(t, names.DefaultImage, c.Image)
	require.Len(t, c.Env, 1)
	assert.Equal(t, names.NodeIPEnv, c.Env[0].Name)
	assert.Equal(t, "status.hostIP", c.Env[0].ValueFrom.FieldRef.FieldPath)
	var ports []string
	for _, p := range c.Ports {
		ports = append(ports, p.Name)
	}
	assert.Equal(t, []string{"kube-proxy", "kube-ctrl-mgr", "kube-scheduler", "etcd"}, ports)
	assert.Equal(t, []corev1.VolumeMount{{Name: names.VolumeName, MountPath: names.ConfigDir, ReadOnly: true},
		{Name: names.CertVolume, MountPath: names.CertDir, ReadOnly: true}}, c.VolumeMounts)
	sc := c.SecurityContext
	assert.False(t, *sc.AllowPrivilegeEscalation)
	assert.True(t, *sc.ReadOnlyRootFilesystem)
	assert.True(t, *sc.RunAsNonRoot)
	assert.NotZero(t, *sc.RunAsUser)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type)
	assert.NotEmpty(t, c.Resources.Requests)
	assert.NotEmpty(t, c.Resources.Limits)
	require.Len(t, spec.Volumes, 2)
	cm := spec.Volumes[0].ConfigMap
	assert.Equal(t, names.DefaultConfigMap, cm.Name)
	assert.Equal(t, []corev1.KeyToPath{{Key: names.ConfigKey, Path: names.ConfigKey}}, cm.Items)
	// The default TLS frontends (10257, 10259) get a per-node certificate made at pod start.
	assert.Equal(t, names.CertVolume, spec.Volumes[1].Name)
	require.NotNil(t, spec.Volumes[1].EmptyDir)
	assert.Equal(t, corev1.StorageMediumMemory, spec.Volumes[1].EmptyDir.Medium, "the key stays in memory")
	require.Len(t, spec.InitContainers, 1)
	assert.Equal(t, ProxyCertContainer(names.DefaultInjectorImage), spec.InitContainers[0])

	var st Status
	require.NoError(t, json.Unmarshal([]byte(ds.Annotations[names.StatusAnnotation]), &st))
	assert.Equal(t, testConfig.Version, st.Version)
	assert.Len(t, st.Hash, 16)
}

func TestDaemonSetIsIdempotent(t *testing.T) {
	ds := stub()
	require.NoError(t, DaemonSet(ds, testConfig))
	once := ds.DeepCopy()
	require.NoError(t, DaemonSet(ds, testConfig))
	assert.Equal(t, once, ds)
}

func TestDaemonSetKeepsUserChoices(t *testing.T) {
	userRes := corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}
	ds := stub(func(ds *appsv1.DaemonSet) {
		ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "mine"}}
		ds.Spec.Template.Spec.Containers = []corev1.Container{
			{Name: "sidecar", Image: "busybox:1"},
			{Name: names.ContainerName, Image: "evil:1", Command: []string{"haproxy", "-f", "/tmp/other.cfg"}, Resources: userRes},
		}
		ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{
			{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "infra", Effect: corev1.TaintEffectNoSchedule},
		}
	})
	notes, err := DaemonSetNotes(ds, testConfig)
	require.NoError(t, err)
	assert.Len(t, notes, 2, "the moved image and the replaced command are named: %q", notes)
	assert.Equal(t, map[string]string{"app": "mine"}, ds.Spec.Selector.MatchLabels)
	assert.Equal(t, map[string]string{"app": "mine"}, ds.Spec.Template.Labels, "template gets the selector's labels")
	cs := ds.Spec.Template.Spec.Containers
	require.Len(t, cs, 2)
	assert.Equal(t, "sidecar", cs[0].Name)
	assert.Equal(t, "evil:1", cs[1].Image, "the user's image is kept")
	assert.Equal(t, "evil:1", ds.Annotations[names.ImageAnnotation], "through the image annotation")
	assert.Empty(t, cs[1].Command, "the haproxy container is rebuilt")
	assert.Equal(t, userRes, cs[1].Resources, "user-set resources are kept")
	assert.Len(t, ds.Spec.Template.Spec.Tolerations, 2)
}

func TestDaemonSetTolerationNotDuplicated(t *testing.T) {
	tests := []struct {
		name string
		have corev1.Toleration
	}{
		{name: "the same", have: Toleration()},
		{name: "any effect", have: corev1.Toleration{Key: names.ControlPlaneTaint, Operator: corev1.TolerationOpExists}},
		{name: "everything", have: corev1.Toleration{Operator: corev1.TolerationOpExists}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := stub(func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{tt.have} })
			require.NoError(t, DaemonSet(ds, testConfig))
			assert.Equal(t, []corev1.Toleration{tt.have}, ds.Spec.Template.Spec.Tolerations)
		})
	}
}

func TestDaemonSetAnnotations(t *testing.T) {
	tests := []struct {
		name        string
		annotations map[string]string
		wantPorts   []int32
		wantImage   string
		wantCM      string
		wantErr     []string
	}{
		{name: "components subset", annotations: map[string]string{names.ComponentsAnnotation: "etcd,kube-scheduler"},
			wantPorts: []int32{10259, 2381}, wantImage: names.DefaultImage, wantCM: names.DefaultConfigMap},
		{name: "image and config map", annotations: map[string]string{names.ImageAnnotation: "registry.example/haproxy:2.8.5", names.ConfigMapAnnotation: "proxy-cfg"},
			wantPorts: []int32{10249, 10257, 10259, 2381}, wantImage: "registry.example/haproxy:2.8.5", wantCM: "proxy-cfg"},
		{name: "unknown component", annotations: map[string]string{names.ComponentsAnnotation: "etcd,kubelet"},
			wantErr: []string{names.ComponentsAnnotation, `"etcd,kubelet"`, `unknown component "kubelet"`}},
		{name: "empty components", annotations: map[string]string{names.ComponentsAnnotation: ""},
			wantErr: []string{names.ComponentsAnnotation, "empty component list"}},
		{name: "bad config map", annotations: map[string]string{names.ConfigMapAnnotation: "Not_A_Name"},
			wantErr: []string{names.ConfigMapAnnotation, `"Not_A_Name"`}},
		{name: "bad image", annotations: map[string]string{names.ImageAnnotation: "haproxy latest"},
			wantErr: []string{names.ImageAnnotation, `"haproxy latest"`}},
		{name: "every bad value at once", annotations: map[string]string{names.ImageAnnotation: "", names.ComponentsAnnotation: "x"},
			wantErr: []string{names.ImageAnnotation, names.ComponentsAnnotation}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := stub(func(ds *appsv1.DaemonSet) { ds.Annotations = tt.annotations })
			err := DaemonSet(ds, testConfig)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, ErrInvalidAnnotation)
				for _, w := range tt.wantErr {
					assert.ErrorContains(t, err, w)
				}
				return
			}
			require.NoError(t, err)
			c := ds.Spec.Template.Spec.Containers[0]
			var ports []int32
			for _, p := range c.Ports {
				ports = append(ports, p.ContainerPort)
			}
			assert.Equal(t, tt.wantPorts, ports)
			assert.Equal(t, tt.wantImage, c.Image)
			assert.Equal(t, tt.wantCM, ds.Spec.Template.Spec.Volumes[0].ConfigMap.Name)
		})
	}
}

func TestPullPolicy(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{
		names.DefaultImage:          corev1.PullIfNotPresent,
		"haproxy":                   corev1.PullAlways,
		"haproxy:latest":            corev1.PullAlways,
		"registry:5000/haproxy":     corev1.PullAlways,
		"registry:5000/haproxy:2.8": corev1.PullIfNotPresent,
		"haproxy@sha256:" + hex64(): corev1.PullIfNotPresent,
	} {
		assert.Equal(t, want, pullPolicy(image), image)
	}
}

func hex64() string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func TestStatusChangesWithInjectedSpecOnly(t *testing.T) {
	a := stub()
	require.NoError(t, DaemonSet(a, testConfig))
	b := stub(func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.NodeSelector = map[string]string{"x": "y"} })
	require.NoError(t, DaemonSet(b, testConfig))
	assert.Equal(t, a.Annotations[names.StatusAnnotation], b.Annotations[names.StatusAnnotation], "unrelated fields do not change the status")
	c := stub(func(ds *appsv1.DaemonSet) { ds.Annotations = map[string]string{names.ComponentsAnnotation: "etcd"} })
	require.NoError(t, DaemonSet(c, testConfig))
	assert.NotEqual(t, a.Annotations[names.StatusAnnotation], c.Annotations[names.StatusAnnotation])
}
