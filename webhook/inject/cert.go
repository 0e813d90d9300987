package inject

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/metrics-proxy/injector/webhook/names"
)

// certVolumeSize bounds the in-memory volume of the per-node certificate (a key and a
// certificate are about 1 KiB).
var certVolumeSize = resource.MustParse("1Mi")

// frontendCert sets up, when some frontend of s terminates TLS, where its certificate comes from:
// the Secret of s.TLSSecret, or an in-memory emptyDir that the proxy-cert init container (image
// injectorImage) fills with a fresh key and a certificate for the node's IP at every pod start.
// With no TLS frontend it removes both, so switching TLS off leaves nothing behind. The haproxy
// container's mount of the volume is Container's.
func frontendCert(spec *corev1.PodSpec, s Settings, injectorImage string) {
	spec.Volumes = removeVolume(spec.Volumes, names.CertVolume)
	spec.InitContainers = removeContainer(spec.InitContainers, names.ProxyCertContainer)
	if len(spec.InitContainers) == 0 {
		spec.InitContainers = nil
	}
	if len(s.TLS) == 0 {
		return
	}
	if s.TLSSecret != "" {
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: names.CertVolume, VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{
				SecretName: s.TLSSecret,
				// HAProxy reads the key from the certificate's path + ".key".
				Items: []corev1.KeyToPath{
					{Key: corev1.TLSCertKey, Path: certName},
					{Key: corev1.TLSPrivateKeyKey, Path: certName + ".key"},
				},
				DefaultMode: ptr.To[int32](0o440),
			}}})
		return
	}
	spec.Volumes = append(spec.Volumes, corev1.Volume{Name: names.CertVolume, VolumeSource: corev1.VolumeSource{
		EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory, SizeLimit: &certVolumeSize}}})
	spec.InitContainers = append(spec.InitContainers, ProxyCertContainer(injectorImage))
}

// certName is the file name of names.CertFile in names.CertDir.
const certName = "frontend.pem"

// ProxyCertContainer is the init container that writes the per-node key and certificate: it runs
// `metrics-proxy proxy-cert` of image with the node's IP, as the haproxy container's user (which
// must read the key), hardened like it.
func ProxyCertContainer(image string) corev1.Container {
	return corev1.Container{
		Name:            names.ProxyCertContainer,
		Image:           image,
		ImagePullPolicy: pullPolicy(image),
		Args:            []string{"proxy-cert", "--ip", "$(" + names.NodeIPEnv + ")", "--out", names.CertFile},
		Env:             []corev1.EnvVar{nodeIPEnv()},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("32Mi")},
		},
		VolumeMounts:             []corev1.VolumeMount{{Name: names.CertVolume, MountPath: names.CertDir}},
		SecurityContext:          securityContext(),
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}
}

// nodeIPEnv is NODE_IP from status.hostIP, the node's IP of a host-network pod.
func nodeIPEnv() corev1.EnvVar {
	return corev1.EnvVar{
		Name: names.NodeIPEnv,
		ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
			APIVersion: "v1", FieldPath: "status.hostIP",
		}},
	}
}

// securityContext is the hardened context of the injected containers.
func securityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		ReadOnlyRootFilesystem:   ptr.To(true),
		RunAsNonRoot:             ptr.To(true),
		RunAsUser:                ptr.To(proxyUser),
		RunAsGroup:               ptr.To(proxyUser),
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func removeVolume(vs []corev1.Volume, name string) []corev1.Volume {
	out := vs[:0]
	for _, v := range vs {
		if v.Name != name {
			out = append(out, v)
		}
	}
	return out
}

func removeContainer(cs []corev1.Container, name string) []corev1.Container {
	out := cs[:0]
	for _, c := range cs {
		if c.Name != name {
			out = append(out, c)
		}
	}
	return out
}

// findInit returns the proxy-cert init container of cs, or nil.
func findInit(cs []corev1.Container) *corev1.Container {
	for i := range cs {
		if cs[i].Name == names.ProxyCertContainer {
			return &cs[i]
		}
	}
	return nil
}

// findCertVolume returns the certificate volume of vs, or nil.
func findCertVolume(vs []corev1.Volume) *corev1.Volume {
	for i := range vs {
		if vs[i].Name == names.CertVolume {
			return &vs[i]
		}
	}
	return nil
}
