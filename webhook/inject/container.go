package inject

import (
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/metrics-proxy/injector/webhook/names"
)

// proxyUser is the numeric user and group HAProxy runs as: nobody, which owns nothing.
const proxyUser int64 = 65534

// Container returns the haproxy container for s. The injector owns it: it is rebuilt on every
// injection, keeping only the resources a user set. Every field the API server would default is
// set explicitly, so injecting a stored (defaulted) DaemonSet again produces no patch.
func Container(s Settings, resources corev1.ResourceRequirements) corev1.Container {
	ports := make([]corev1.ContainerPort, len(s.Components))
	for i, c := range s.Components {
		ports[i] = corev1.ContainerPort{Name: c.PortName, ContainerPort: c.Port, Protocol: corev1.ProtocolTCP}
	}
	if len(resources.Limits) == 0 && len(resources.Requests) == 0 && len(resources.Claims) == 0 {
		resources = DefaultResources()
	}
	mounts := []corev1.VolumeMount{{Name: names.VolumeName, MountPath: names.ConfigDir, ReadOnly: true}}
	if len(s.TLS) > 0 {
		mounts = append(mounts, corev1.VolumeMount{Name: names.CertVolume, MountPath: names.CertDir, ReadOnly: true})
	}
	return corev1.Container{
		Name:                     names.ContainerName,
		Image:                    s.Image,
		ImagePullPolicy:          pullPolicy(s.Image),
		Env:                      []corev1.EnvVar{nodeIPEnv()},
		Ports:                    ports,
		Resources:                resources,
		VolumeMounts:             mounts,
		SecurityContext:          securityContext(),
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}
}

// DefaultResources are the proxy's requests and limits when the user set none, set from `make
// bench`'s scrape part (docs/benchmarks.md): HAProxy forwarding a few scrapes a minute needs very
// little (the requests), but 50 scrapers at once drove it to about 0.5 CPU in a 100 ms window and
// 25 MiB resident, so the CPU limit leaves it a whole CPU (a lower one throttles the scrapes) and
// the memory limit twice that.
func DefaultResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("10m"),
			corev1.ResourceMemory: resource.MustParse("32Mi"),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("1"),
			corev1.ResourceMemory: resource.MustParse("64Mi"),
		},
	}
}

// pullPolicy is the policy the API server would default: Always for :latest or no tag.
func pullPolicy(image string) corev1.PullPolicy {
	if strings.Contains(image, "@") {
		return corev1.PullIfNotPresent
	}
	last := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(last, ":"); i < 0 || last[i+1:] == "latest" {
		return corev1.PullAlways
	}
	return corev1.PullIfNotPresent
}

// Volume returns the config volume: the ConfigMap called name, projecting only haproxy.cfg.
func Volume(name string) corev1.Volume {
	return corev1.Volume{
		Name: names.VolumeName,
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: name},
			Items:                []corev1.KeyToPath{{Key: names.ConfigKey, Path: names.ConfigKey}},
			DefaultMode:          ptr.To(corev1.ConfigMapVolumeSourceDefaultMode),
		}},
	}
}

// Toleration is the toleration that lets the proxy run on control-plane nodes.
func Toleration() corev1.Toleration {
	return corev1.Toleration{Key: names.ControlPlaneTaint, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
}

// tolerated reports whether ts already tolerate the control-plane taint.
func tolerated(ts []corev1.Toleration) bool {
	taint := corev1.Taint{Key: names.ControlPlaneTaint, Effect: corev1.TaintEffectNoSchedule}
	for i := range ts {
		if ts[i].ToleratesTaint(logr.Discard(), &taint, false) {
			return true
		}
	}
	return false
}
