package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// tlsProxy is a stub completed by the injector with TLS frontends (the default): the haproxy
// container mounts its certificate, and the proxy-cert init container makes it.
func tlsProxy(t *testing.T) *appsv1.DaemonSet {
	t.Helper()
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "metrics-proxy", Namespace: "observability"}}
	require.NoError(t, inject.DaemonSet(ds, inject.Config{Version: "test"}))
	require.Len(t, ds.Spec.Template.Spec.InitContainers, 1, "the default injection has TLS frontends")
	return ds
}

// TestContainerFields: the fields injection never writes on the haproxy container and the
// proxy-cert init container are refused, each with its field path; what injection writes or
// keeps (httpGet, tcpSocket and grpc probes, the certificate mount) is admitted.
func TestContainerFields(t *testing.T) {
	haproxy := func(ds *appsv1.DaemonSet) *corev1.Container { return &ds.Spec.Template.Spec.Containers[0] }
	cert := func(ds *appsv1.DaemonSet) *corev1.Container { return &ds.Spec.Template.Spec.InitContainers[0] }
	const init = podSpec + ".initContainers[0]"
	exec := &corev1.ExecAction{Command: []string{"/bin/sh", "-c", "haproxy -D -f /tmp/open.cfg"}}
	tests := []struct {
		name   string
		edit   func(*appsv1.DaemonSet)
		source string // "": admitted
	}{
		{"as injected", func(*appsv1.DaemonSet) {}, ""},
		{"an httpGet readiness probe on a proxied port", func(ds *appsv1.DaemonSet) {
			haproxy(ds).ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/metrics", Port: intstr.FromInt32(10249)}}}
		}, ""},
		{"a tcpSocket liveness probe", func(ds *appsv1.DaemonSet) {
			haproxy(ds).LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(2381)}}}
		}, ""},
		{"an exec readiness probe", func(ds *appsv1.DaemonSet) {
			haproxy(ds).ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: exec}}
		}, container + ".readinessProbe.exec"},
		{"an httpGet probe aimed at another host", func(ds *appsv1.DaemonSet) {
			haproxy(ds).ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Host: "10.0.0.1", Port: intstr.FromInt32(80)}}}
		}, container + ".readinessProbe"},
		{"a preStop hook", func(ds *appsv1.DaemonSet) {
			haproxy(ds).Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: exec}}
		}, container + ".lifecycle"},
		{"an httpGet postStart hook", func(ds *appsv1.DaemonSet) {
			haproxy(ds).Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}}
		}, container + ".lifecycle"},
		{"another env after NODE_IP", func(ds *appsv1.DaemonSet) {
			haproxy(ds).Env = append(haproxy(ds).Env, corev1.EnvVar{Name: "LD_LIBRARY_PATH", Value: "/opt"})
		}, container + ".env[1]"},
		{"envFrom", func(ds *appsv1.DaemonSet) {
			haproxy(ds).EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "env"}}}}
		}, container + ".envFrom"},
		{"workingDir", func(ds *appsv1.DaemonSet) { haproxy(ds).WorkingDir = "/tmp" }, container + ".workingDir"},
		{"the certificate volume mounted elsewhere", func(ds *appsv1.DaemonSet) {
			haproxy(ds).VolumeMounts = append(haproxy(ds).VolumeMounts, corev1.VolumeMount{Name: names.CertVolume, MountPath: "/usr/lib"})
		}, container + ".volumeMounts[2]"},
		{"the certificate directory from a subPath", func(ds *appsv1.DaemonSet) {
			m := &haproxy(ds).VolumeMounts[1]
			require.Equal(t, names.CertDir, m.MountPath)
			m.SubPath = "x"
		}, container + ".volumeMounts[1]"},
		{"proxy-cert: another env", func(ds *appsv1.DaemonSet) {
			cert(ds).Env = append(cert(ds).Env, corev1.EnvVar{Name: "LD_PRELOAD", Value: "/x.so"})
		}, init + ".env[1]"},
		{"proxy-cert: a sidecar", func(ds *appsv1.DaemonSet) {
			always := corev1.ContainerRestartPolicyAlways
			cert(ds).RestartPolicy = &always
		}, init + ".restartPolicy"},
		{"proxy-cert: a probe", func(ds *appsv1.DaemonSet) {
			cert(ds).StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: exec}}
		}, init},
		{"proxy-cert: a hook", func(ds *appsv1.DaemonSet) {
			cert(ds).Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: exec}}
		}, init + ".lifecycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := tlsProxy(t)
			tt.edit(ds)
			_, vs := policy.ValidateDaemonSet(ds, nil)
			if tt.source == "" {
				assert.Empty(t, vs, render(vs))
				return
			}
			require.Len(t, vs, 1, render(vs))
			assert.Equal(t, policy.RuleContainerFields, vs[0].Rule)
			assert.Equal(t, tt.source, vs[0].Source)
		})
	}
}
