package deploy_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Names the manifests and the server's flags share.
const (
	deploymentName = "metrics-proxy"
	containerName  = "metrics-proxy"
	serviceAccount = "metrics-proxy"
	certDir        = "/tmp/k8s-webhook-server/serving-certs"
	certSecret     = "metrics-proxy-webhook-tls"
	policyDir      = "/etc/metrics-proxy"
	image          = "metrics-proxy:latest"
)

// deployment returns the webhook server's Deployment and its one container.
func deployment(t *testing.T, b *built) (*appsv1.Deployment, *corev1.Container) {
	t.Helper()
	d := &appsv1.Deployment{}
	b.get(t, "Deployment", deploymentName, d)
	require.Len(t, d.Spec.Template.Spec.Containers, 1)
	require.Equal(t, containerName, d.Spec.Template.Spec.Containers[0].Name)
	return d, &d.Spec.Template.Spec.Containers[0]
}

// flag returns the value of --name=value in args.
func flag(t *testing.T, args []string, name string) string {
	t.Helper()
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	t.Fatalf("no --%s= in %v", name, args)
	return ""
}

// mountAt returns the volume mounted at path and the mount.
func mountAt(t *testing.T, pod *corev1.PodSpec, c *corev1.Container, path string) (*corev1.Volume, corev1.VolumeMount) {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			for i := range pod.Volumes {
				if pod.Volumes[i].Name == m.Name {
					return &pod.Volumes[i], m
				}
			}
			t.Fatalf("mount %s names no volume %s", path, m.Name)
		}
	}
	t.Fatalf("nothing mounted at %s", path)
	return nil, corev1.VolumeMount{}
}

// TestDeployment checks the webhook server's Deployment in every variant: highly available,
// probed, bounded, locked down, and running the mode's --cert-mode with the certificate where
// that mode expects it.
func TestDeployment(t *testing.T) {
	forEachVariant(t, func(t *testing.T, v variant, b *built) {
		d, c := deployment(t, b)
		pod := &d.Spec.Template.Spec
		assert.Equal(t, Namespace, d.Namespace)
		assert.Equal(t, ptr.To[int32](2), d.Spec.Replicas)
		assert.Equal(t, image, c.Image, "kustomize images sets the placeholder")
		assert.Equal(t, serviceAccount, pod.ServiceAccountName)
		require.NotNil(t, d.Spec.Selector)
		assert.Subset(t, d.Spec.Template.Labels, d.Spec.Selector.MatchLabels)

		assert.Equal(t, "serve", c.Args[0])
		assert.Equal(t, v.mode, flag(t, c.Args, "cert-mode"))
		assert.Equal(t, certDir, flag(t, c.Args, "cert-dir"))
		vol, mount := mountAt(t, pod, c, certDir)
		switch v.mode {
		case "self-signed":
			assert.NotNil(t, vol.EmptyDir, "self-signed writes its certificate to an emptyDir")
			assert.Nil(t, vol.Secret)
			assert.False(t, mount.ReadOnly)
		default:
			require.NotNil(t, vol.Secret, "%s reads the mounted Secret", v.mode)
			assert.Equal(t, certSecret, vol.Secret.SecretName)
			assert.Equal(t, certSecret, flag(t, c.Args, "cert-secret"))
			assert.True(t, mount.ReadOnly)
		}

		assertProbes(t, c)
		assertLockedDown(t, pod, c)
		assertSpread(t, d)
	})
}

// assertProbes: liveness on /healthz, readiness on /readyz, both on the port the server's
// --health-probe-bind-address opens.
func assertProbes(t *testing.T, c *corev1.Container) {
	t.Helper()
	health := containerPort(t, c, "health")
	assert.Equal(t, ":"+health.String(), flag(t, c.Args, "health-probe-bind-address"))
	for path, p := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		require.NotNil(t, p, path)
		require.NotNil(t, p.HTTPGet, path)
		assert.Equal(t, path, p.HTTPGet.Path)
		assert.Equal(t, intstr.FromString("health"), p.HTTPGet.Port)
	}
}

// assertLockedDown: Pod Security restricted and more: non-root uid 65532 (distroless nonroot),
// read-only root, no capabilities, RuntimeDefault seccomp, requests and limits.
func assertLockedDown(t *testing.T, pod *corev1.PodSpec, c *corev1.Container) {
	t.Helper()
	require.NotNil(t, pod.SecurityContext)
	assert.Equal(t, ptr.To(true), pod.SecurityContext.RunAsNonRoot)
	assert.Equal(t, ptr.To[int64](65532), pod.SecurityContext.RunAsUser)
	require.NotNil(t, pod.SecurityContext.SeccompProfile)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type)
	assert.False(t, pod.HostNetwork || pod.HostPID || pod.HostIPC)

	sc := c.SecurityContext
	require.NotNil(t, sc)
	assert.Equal(t, ptr.To(false), sc.AllowPrivilegeEscalation)
	assert.Equal(t, ptr.To(true), sc.ReadOnlyRootFilesystem)
	assert.Equal(t, ptr.To(true), sc.RunAsNonRoot)
	assert.Equal(t, ptr.To[int64](65532), sc.RunAsUser)
	require.NotNil(t, sc.Capabilities)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Empty(t, sc.Capabilities.Add)

	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		assert.Contains(t, c.Resources.Requests, r, "request")
		assert.Contains(t, c.Resources.Limits, r, "limit")
	}
}

// assertSpread: the replicas spread over nodes without blocking a single-node cluster.
func assertSpread(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	var keys []string
	for _, c := range d.Spec.Template.Spec.TopologySpreadConstraints {
		keys = append(keys, c.TopologyKey)
		require.NotNil(t, c.LabelSelector)
		assert.Equal(t, d.Spec.Selector.MatchLabels, c.LabelSelector.MatchLabels)
		assert.Equal(t, corev1.ScheduleAnyway, c.WhenUnsatisfiable)
	}
	assert.Contains(t, keys, "kubernetes.io/hostname")
}

// containerPort returns the number of the container's port called name.
func containerPort(t *testing.T, c *corev1.Container, name string) intstr.IntOrString {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return intstr.FromInt32(p.ContainerPort)
		}
	}
	t.Fatalf("container %s has no port %s", c.Name, name)
	return intstr.IntOrString{}
}
