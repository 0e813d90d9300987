package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestRedTeamValidateDaemonSetIgnoresWhatRunsInTheContainer (finding: bypass; see
// webhook/admission's TestRedTeamEarlierProxyRunsUnvalidatedCommands). ValidateDaemonSet is what
// `metrics-proxy validate` runs in a GitOps pipeline, what `metrics-proxy audit` judges live
// proxies with, and all that stands where the webhook validates without injecting (the
// annotated entry). It admits a proxy whose haproxy container runs a process nobody validated:
// a postStart exec hook or an exec probe (`haproxy -D -f /tmp/open.cfg`, on the host network),
// a ConfigMap mounted over the image's /usr/local/bin (replacing docker-entrypoint.sh, the
// image's ENTRYPOINT, without setting command or args), an LD_PRELOAD env. The injector drops
// each of them (it rebuilds the container; keep() drops exec probes "because an exec probe
// runs commands inside the proxy container"); the validator must refuse what injection never
// writes.
func TestRedTeamValidateDaemonSetIgnoresWhatRunsInTheContainer(t *testing.T) {
	sh := []string{"/bin/sh", "-c", "haproxy -D -f /tmp/open.cfg"}
	for name, edit := range map[string]func(*corev1.PodSpec, *corev1.Container){
		"postStart exec hook": func(_ *corev1.PodSpec, c *corev1.Container) {
			c.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: sh}}}
		},
		"preStop exec hook": func(_ *corev1.PodSpec, c *corev1.Container) {
			c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: sh}}}
		},
		"exec livenessProbe": func(_ *corev1.PodSpec, c *corev1.Container) {
			c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: sh}}}
		},
		"exec startupProbe": func(_ *corev1.PodSpec, c *corev1.Container) {
			c.StartupProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: sh}}}
		},
		"entrypoint shadowed by a mount": func(s *corev1.PodSpec, c *corev1.Container) {
			s.Volumes = append(s.Volumes, corev1.Volume{Name: "bin", VolumeSource: corev1.VolumeSource{
				ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "bin"}}}})
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "bin", MountPath: "/usr/local/bin"})
		},
		"LD_PRELOAD env": func(_ *corev1.PodSpec, c *corev1.Container) {
			c.Env = append([]corev1.EnvVar{{Name: "LD_PRELOAD", Value: "/opt/lib/x.so"}}, c.Env...)
		},
	} {
		t.Run(name, func(t *testing.T) {
			ds := proxyDaemonSet(t)
			spec := &ds.Spec.Template.Spec
			for i := range spec.Containers {
				if spec.Containers[i].Name == names.ContainerName {
					edit(spec, &spec.Containers[i])
				}
			}
			cm, vs := policy.ValidateDaemonSet(ds, nil)
			if len(vs) == 0 {
				t.Errorf("admitted: a proxy (config %s) whose haproxy container runs what nobody validated", cm)
			}
		})
	}
}
