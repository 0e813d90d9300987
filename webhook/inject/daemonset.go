package inject

import (
	"maps"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// Config is what the injector itself brings to every injection.
type Config struct {
	// Version is written into the status annotation.
	Version string
	// DefaultImage is the proxy image when the DaemonSet does not override it; names.DefaultImage if empty.
	DefaultImage string
	// InjectorImage is the metrics-proxy image the proxy-cert init container runs;
	// names.DefaultInjectorImage if empty.
	InjectorImage string
	// ConfigHash is ConfigHash of the ConfigMap the DaemonSet mounts, which the caller looked up
	// (the injector itself reads nothing); it becomes the pod template's
	// metrics-proxy.io/config-hash. Empty leaves that annotation as it is (the offline CLI, or a
	// ConfigMap that does not exist yet).
	ConfigHash string
}

// OptedOut reports whether ds carries metrics-proxy.io/inject: "false".
func OptedOut(ds *appsv1.DaemonSet) bool {
	return ds.Labels[names.InjectLabel] == "false"
}

// DaemonSet completes ds into the metrics proxy, in place. It is idempotent: injecting an injected
// DaemonSet changes nothing. It touches only what the injector owns (the haproxy container, the
// haproxy-config volume, host networking, the control-plane toleration, the status annotation,
// and a selector and template labels when the stub has none); everything else stays as written.
// An invalid metrics-proxy.io annotation is an error wrapping ErrInvalidAnnotation.
func DaemonSet(ds *appsv1.DaemonSet, cfg Config) error {
	_, err := DaemonSetNotes(ds, cfg)
	return err
}

// DaemonSetNotes is DaemonSet, and returns a note for everything of the user's haproxy container
// that injection moved or replaced (see ownership.go): the webhook returns them as warnings, the
// CLI prints them on standard error.
func DaemonSetNotes(ds *appsv1.DaemonSet, cfg Config) ([]string, error) {
	image := cfg.DefaultImage
	if image == "" {
		image = names.DefaultImage
	}
	s, err := ParseSettings(ds.Annotations, image)
	if err != nil {
		return nil, err
	}
	completeSelector(ds)

	spec := &ds.Spec.Template.Spec
	old := findContainer(spec.Containers)
	notes, err := ownImage(ds, old, &s, image)
	if err != nil {
		return nil, err
	}
	k, dropped := keep(old)
	notes = append(notes, dropped...)
	c := Container(s, k.resources)
	c.ReadinessProbe, c.LivenessProbe, c.StartupProbe = k.readiness, k.liveness, k.startup
	if old != nil {
		if !injectedByUs(ds, old, image, names.DefaultImage, names.SeedImage) {
			notes = append(notes, replacedFields(old, &c)...)
		}
		*old = c
	} else {
		spec.Containers = append(spec.Containers, c)
	}
	if old := findVolume(spec.Volumes); old != nil {
		*old = Volume(s.ConfigMap)
	} else {
		spec.Volumes = append(spec.Volumes, Volume(s.ConfigMap))
	}
	injectorImage := cfg.InjectorImage
	if injectorImage == "" {
		injectorImage = names.DefaultInjectorImage
	}
	frontendCert(spec, s, injectorImage)
	spec.HostNetwork = true
	spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
	if !tolerated(spec.Tolerations) {
		spec.Tolerations = append(spec.Tolerations, Toleration())
	}
	setConfigHash(ds, cfg.ConfigHash)

	status, err := statusOf(ds, cfg.Version)
	if err != nil {
		return nil, err
	}
	if ds.Annotations == nil {
		ds.Annotations = map[string]string{}
	}
	ds.Annotations[names.StatusAnnotation] = status
	return notes, nil
}

// completeSelector gives a stub without a selector one, taken from its template labels or, when
// it has none, from its name; and makes sure the template carries the selector's labels.
func completeSelector(ds *appsv1.DaemonSet) {
	tmpl := &ds.Spec.Template.ObjectMeta
	sel := ds.Spec.Selector
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		labels := maps.Clone(tmpl.Labels)
		if len(labels) == 0 {
			instance := ds.Name
			if instance == "" {
				instance = strings.TrimSuffix(ds.GenerateName, "-")
			}
			labels = map[string]string{appNameLabel: appName, appInstanceLabel: labelValue(instance)}
		}
		ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: labels}
	}
	for k, v := range ds.Spec.Selector.MatchLabels {
		if _, ok := tmpl.Labels[k]; ok {
			continue // a conflicting value is the API server's to reject, with its own message
		}
		if tmpl.Labels == nil {
			tmpl.Labels = map[string]string{}
		}
		tmpl.Labels[k] = v
	}
}

// labelValue shortens a name to the 63 characters a label value may have.
func labelValue(name string) string {
	if len(name) <= 63 {
		return name
	}
	return strings.TrimRight(name[:63], "-.")
}
