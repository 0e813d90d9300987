package admission_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// trickyText holds what a splitter of encoded JSON could stumble on: quotes, brackets, escapes.
const trickyText = "\"]},{[<>&\\\u2028\u00e9~/:,\u0001"

// hostileHAProxy is a user's container named haproxy, carrying fields a tenant would use.
func hostileHAProxy() corev1.Container {
	return corev1.Container{
		Name: names.ContainerName, Image: names.DefaultImage,
		Command:    []string{"/bin/sh", "-c", trickyText},
		Args:       []string{trickyText, "{\"a\":1}"},
		WorkingDir: "/tmp",
		Env: []corev1.EnvVar{{Name: "LD_PRELOAD", Value: trickyText},
			{Name: "NODE_IP", Value: "1.2.3.4"}},
		EnvFrom:       []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}},
		Ports:         []corev1.ContainerPort{{Name: "ssh", ContainerPort: 2222}},
		VolumeMounts:  []corev1.VolumeMount{{Name: "bin", MountPath: "/usr/local/bin"}},
		Lifecycle:     &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c", trickyText}}}},
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"sh"}}}},
		SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true), RunAsUser: ptr.To(int64(0)),
			Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN"}}},
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m")}},
	}
}

// configVolume is ds's config volume.
func configVolume(t *testing.T, ds *appsv1.DaemonSet) *corev1.Volume {
	t.Helper()
	for i := range ds.Spec.Template.Spec.Volumes {
		if ds.Spec.Template.Spec.Volumes[i].Name == names.VolumeName {
			return &ds.Spec.Template.Spec.Volumes[i]
		}
	}
	t.Fatalf("no %s volume in %s", names.VolumeName, ds.Name)
	return nil
}

// assertOwnHAProxy checks that ds is injected and its haproxy container is the injector's own.
func assertOwnHAProxy(t *testing.T, ds *appsv1.DaemonSet) {
	t.Helper()
	assertInjected(t, ds)
	c := haproxyContainer(t, ds)
	settings, err := inject.ParseSettings(ds.Annotations, names.DefaultImage)
	require.NoError(t, err)
	want := inject.Container(settings, c.Resources)
	got := c.DeepCopy()
	// API server defaults on hostNetwork
	for i := range got.Ports {
		if got.Ports[i].HostPort == got.Ports[i].ContainerPort {
			got.Ports[i].HostPort = 0
		}
	}
	assert.Equal(t, want.Command, got.Command)
	assert.Equal(t, want.Args, got.Args)
	assert.Equal(t, want.Env, got.Env)
	assert.Empty(t, got.EnvFrom)
	assert.Equal(t, want.VolumeMounts, got.VolumeMounts)
	assert.Equal(t, want.SecurityContext, got.SecurityContext)
	assert.Equal(t, want.Ports, got.Ports)
	assert.Nil(t, got.Lifecycle)
	assert.Nil(t, got.LivenessProbe)
	assert.Empty(t, got.WorkingDir)
	assert.Equal(t, names.DefaultImage, got.Image)
	assert.Equal(t, trickyText, ds.Annotations["example.com/tricky"])
}

// TestHostileHAProxyThroughAPIServer: a create and an update carrying a hostile haproxy container,
// sent by the API server as the types write them (patched by comparing bytes), are stored with
// the injector's container.
func TestHostileHAProxyThroughAPIServer(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	enabled := map[string]string{names.NamespaceInjectionLabel: "enabled"}
	t.Run("create", func(t *testing.T) {
		ns := newProxyNamespace(t, enabled)
		ds := &appsv1.DaemonSet{
			ObjectMeta: metav1.ObjectMeta{Name: "proxy", Namespace: ns,
				Annotations: map[string]string{"example.com/tricky": trickyText, "example.com/x": "{\"spec\":[]}"}},
			Spec: appsv1.DaemonSetSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "p"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "p"}, Annotations: map[string]string{"a/b": trickyText}},
					Spec: corev1.PodSpec{
						Containers: []corev1.Container{hostileHAProxy()},
						Volumes: []corev1.Volume{{Name: "bin", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "bin"}}}},
							{Name: names.VolumeName, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}},
					},
				},
			},
		}
		err := cp.Client.Create(ctx, ds)
		if err != nil {
			t.Logf("create refused: %v", err)
			return
		}
		got := getDaemonSet(t, ns, "proxy")
		assertOwnHAProxy(t, got)
		v := configVolume(t, got)
		assert.Nil(t, v.HostPath)
		assert.NotNil(t, v.ConfigMap)
	})
	t.Run("update", func(t *testing.T) {
		ns := newProxyNamespace(t, enabled)
		kubectl(t, manifestOf(stub, "proxy", ns, ""), "apply", "-f", "-")
		ds := getDaemonSet(t, ns, "proxy")
		ds.Annotations["example.com/tricky"] = trickyText
		h, c := hostileHAProxy(), haproxyContainer(t, ds)
		c.Command, c.Args, c.Env, c.EnvFrom, c.Lifecycle, c.LivenessProbe = h.Command, h.Args, h.Env, h.EnvFrom, h.Lifecycle, h.LivenessProbe
		c.SecurityContext, c.WorkingDir = h.SecurityContext, h.WorkingDir
		c.VolumeMounts = append(c.VolumeMounts, h.VolumeMounts...)
		c.Ports = append(c.Ports, h.Ports...)
		ds.Spec.Template.Spec.Volumes = append(ds.Spec.Template.Spec.Volumes, corev1.Volume{Name: "bin", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "bin"}}}})
		err := cp.Client.Update(ctx, ds)
		if err != nil {
			t.Logf("update refused: %v", err)
			return
		}
		assertOwnHAProxy(t, getDaemonSet(t, ns, "proxy"))
	})
}

// hostileSSA is a proxy with a hostile haproxy container and forged annotations, for kubectl.
const hostileSSA = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: _NAME_
  namespace: _NS_
  labels: {LABELS}
  annotations:
    example.com/tricky: "\"]},{[<>&\\\u2028é~/:,\u0001"
    metrics-proxy.io/status: '{"version":"integration","hash":"forged"}'
spec:
  selector: {matchLabels: {app: p}}
  template:
    metadata: {labels: {app: p}, annotations: {"metrics-proxy.io/config-hash": "forged"}}
    spec:
      volumes: [{name: haproxy-config, hostPath: {path: /}}]
      containers:
      - name: haproxy
        image: haproxy:3.0
        command: ["/bin/sh", "-c", "id"]
        args: ["{\"a\":[1,2]}"]
        env: [{name: LD_PRELOAD, value: "/x.so"}]
        securityContext: {privileged: true, runAsUser: 0}
        volumeMounts: [{name: haproxy-config, mountPath: /usr/local/bin}]
        lifecycle: {postStart: {exec: {command: [sh]}}}
        livenessProbe: {exec: {command: [sh]}}
`

// TestHostileHAProxyServerSideApply: the same through kubectl apply (server-side and
// client-side) and create.
func TestHostileHAProxyServerSideApply(t *testing.T) {
	needControlPlane(t)
	enabled := map[string]string{names.NamespaceInjectionLabel: "enabled"}
	for _, mode := range [][]string{{"apply", "--server-side", "--field-manager=gitops", "-f", "-"}, {"apply", "-f", "-"}, {"create", "-f", "-"}} {
		t.Run(mode[0]+mode[1], func(t *testing.T) {
			ns := newProxyNamespace(t, enabled)
			_, stderr, err := cp.Kubectl(context.Background(), manifestOf(hostileSSA, "proxy", ns, ""), mode...)
			if err != nil {
				t.Logf("refused: %s", stderr)
				return
			}
			ds := getDaemonSet(t, ns, "proxy")
			assertOwnHAProxy(t, ds)
			assert.Nil(t, configVolume(t, ds).HostPath)
			assert.NotEqual(t, "forged", ds.Spec.Template.Annotations[names.ConfigHashAnnotation])
		})
	}
}
