package inject

import (
	"fmt"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// What the injector owns, and what it keeps of what a user wrote on the haproxy container.
//
// The haproxy container is rebuilt on every injection. Of a container a user wrote it keeps the
// resources, the readiness, liveness and startup probes (httpGet, tcpSocket or grpc: the kubelet
// runs those from outside the container; not one aimed at another host), and the image, which moves to the
// metrics-proxy.io/image annotation, the one way to choose it. Everything else on it (command,
// args, env, ports, volume mounts, securityContext, an exec probe) is replaced, and each
// replaced field is named in a note: injection never drops what a user wrote silently.

// kept is what injection carries over from the haproxy container a user wrote.
type kept struct {
	resources corev1.ResourceRequirements
	readiness *corev1.Probe
	liveness  *corev1.Probe
	startup   *corev1.Probe
}

// keep returns what injection keeps of old, and a note for each probe it drops.
func keep(old *corev1.Container) (kept, []string) {
	if old == nil {
		return kept{}, nil
	}
	k := kept{resources: old.Resources}
	var notes []string
	for _, p := range []struct {
		name string
		from *corev1.Probe
		to   **corev1.Probe
	}{{"readinessProbe", old.ReadinessProbe, &k.readiness}, {"livenessProbe", old.LivenessProbe, &k.liveness}, {"startupProbe", old.StartupProbe, &k.startup}} {
		if p.from == nil {
			continue
		}
		if p.from.Exec != nil {
			notes = append(notes, fmt.Sprintf("container %s: %s dropped: an exec probe runs commands inside the proxy container; use httpGet or tcpSocket on a proxied port",
				names.ContainerName, p.name))
			continue
		}
		if h := p.from.HTTPGet; h != nil && h.Host != "" || p.from.TCPSocket != nil && p.from.TCPSocket.Host != "" {
			notes = append(notes, fmt.Sprintf("container %s: %s dropped: it is aimed at another host; probe the pod itself (leave host unset)",
				names.ContainerName, p.name))
			continue
		}
		*p.to = p.from.DeepCopy()
	}
	return k, notes
}

// injectedByUs reports whether old, the haproxy container of ds, is what an earlier injection
// wrote: ds carries the status annotation and either nothing the injector owns changed since
// (the status hash still matches), or old's image is one the injector itself sets by default (a
// stored proxy injected before the default changed).
func injectedByUs(ds *appsv1.DaemonSet, old *corev1.Container, defaults ...string) bool {
	if _, ok := ds.Annotations[names.StatusAnnotation]; !ok {
		return false
	}
	if StatusMatches(ds) {
		return true
	}
	for _, d := range defaults {
		if old.Image == d {
			return true
		}
	}
	return false
}

// ownImage settles the image of the haproxy container old that ds holds before injection, given
// the settings s parsed from its annotations and the injector's default image. A user's image
// (one no injection wrote) without the annotation moves to the annotation, with a note; with the
// annotation, the annotation wins, with a note. An image an earlier injection wrote follows the
// settings, with a note when it changes (the injector's default changed).
func ownImage(ds *appsv1.DaemonSet, old *corev1.Container, s *Settings, defaultImage string) ([]string, error) {
	if old == nil || old.Image == "" || old.Image == s.Image {
		return nil, nil
	}
	_, annotated := ds.Annotations[names.ImageAnnotation]
	if injectedByUs(ds, old, defaultImage, names.DefaultImage, names.SeedImage) {
		if annotated {
			return nil, nil // the user changed the annotation: that is the route
		}
		return []string{fmt.Sprintf("container %s: image %s replaced by %s, the injector's default; pin an image with the annotation %s",
			names.ContainerName, old.Image, s.Image, names.ImageAnnotation)}, nil
	}
	if annotated {
		return []string{fmt.Sprintf("container %s: image %s replaced by %s from the annotation %s, which chooses the proxy image",
			names.ContainerName, old.Image, s.Image, names.ImageAnnotation)}, nil
	}
	if !imageRef.MatchString(old.Image) {
		return nil, fmt.Errorf("%w: container %s: image %q is not a valid image reference", ErrInvalidAnnotation, names.ContainerName, old.Image)
	}
	if ds.Annotations == nil {
		ds.Annotations = map[string]string{}
	}
	ds.Annotations[names.ImageAnnotation] = old.Image
	s.Image = old.Image
	note := fmt.Sprintf("container %s: image %s kept, moved to the annotation %s (the injector owns the container; the annotation is how to choose its image)",
		names.ContainerName, old.Image, names.ImageAnnotation)
	if seedImage(old.Image) {
		note += "; this image ships HAProxy 2.5.8, affected by CVE-2023-25725 (request smuggling past http-request rules): drop image: to get " + names.DefaultImage
	}
	return []string{note}, nil
}

// seedImage reports whether image is the seed procedure's HAProxy image (any tag).
func seedImage(image string) bool {
	repo := names.SeedImage[:strings.LastIndex(names.SeedImage, ":")]
	return strings.HasPrefix(image, repo+":") || strings.HasPrefix(image, repo+"@")
}

// replacedFields notes the fields of a user's haproxy container (old, which no injection wrote)
// that the rebuilt container new does not keep.
func replacedFields(old, new *corev1.Container) []string {
	var fields []string
	for _, f := range []struct {
		name     string
		was, now any
		set      bool
	}{
		{"command", old.Command, new.Command, len(old.Command) > 0},
		{"args", old.Args, new.Args, len(old.Args) > 0},
		{"env", old.Env, new.Env, len(old.Env) > 0},
		{"envFrom", old.EnvFrom, new.EnvFrom, len(old.EnvFrom) > 0},
		{"ports", old.Ports, new.Ports, len(old.Ports) > 0},
		{"volumeMounts", old.VolumeMounts, new.VolumeMounts, len(old.VolumeMounts) > 0},
		{"securityContext", old.SecurityContext, new.SecurityContext, old.SecurityContext != nil},
		{"workingDir", old.WorkingDir, new.WorkingDir, old.WorkingDir != ""},
	} {
		if f.set && !reflect.DeepEqual(f.was, f.now) {
			fields = append(fields, f.name)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("container %s: %s replaced: the injector owns the container (it keeps resources, probes and the image)",
		names.ContainerName, strings.Join(fields, ", "))}
}

// IsProxy reports whether ds looks like a metrics proxy or a stub of one: it has no containers,
// or a container named haproxy, or the haproxy-config volume, or the status annotation. Anything
// else (node-exporter, say) is a workload that injection would turn into a proxy. The check reads
// only ds (at most its container and volume lists).
func IsProxy(ds *appsv1.DaemonSet) bool {
	if _, ok := ds.Annotations[names.StatusAnnotation]; ok {
		return true
	}
	spec := &ds.Spec.Template.Spec
	return len(spec.Containers) == 0 || findContainer(spec.Containers) != nil || findVolume(spec.Volumes) != nil
}

// NotAProxyNote is the note for a DaemonSet that IsProxy says is no proxy, selected only because
// its namespace has injection enabled.
func NotAProxyNote(ds *appsv1.DaemonSet) string {
	cs := ds.Spec.Template.Spec.Containers
	list := make([]string, 0, min(len(cs), 4))
	for i := range cs[:min(len(cs), 4)] {
		list = append(list, cs[i].Name)
	}
	if len(cs) > 4 {
		list = append(list, "...")
	}
	return fmt.Sprintf("DaemonSet %s/%s (containers: %s) is not a metrics proxy, but namespace %s has %s=enabled, which turns every DaemonSet into one: "+
		"label it %s=false, or run the proxies in a namespace of their own (%s)",
		ds.Namespace, ds.Name, strings.Join(list, ", "), ds.Namespace, names.NamespaceInjectionLabel, names.InjectLabel, names.DedicatedNamespace)
}
