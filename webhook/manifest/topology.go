package manifest

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// ControlPlaneLabel is the label kubeadm (and EKS Anywhere) put on control-plane nodes; the
// control-plane proxy selects it, the nodes proxy avoids it.
const ControlPlaneLabel = names.ControlPlaneTaint

// proxy is one of the two proxies render prints: a ConfigMap with its generated haproxy.cfg and
// the DaemonSet stub that mounts it, placed on its nodes.
type proxy struct {
	name       string
	components []components.Component
	tls        []components.Component
	place      func(*corev1.PodSpec)
	filter     inject.Filter
}

// splitProxies splits cs over the two DaemonSets: metrics-proxy-control-plane on control-plane nodes
// with every component of cs (the components kubeadm runs there), metrics-proxy-nodes on every
// other node with kube-proxy only, so that no frontend points at a component its node does not
// run. Without kube-proxy in cs there is no nodes proxy.
func splitProxies(cs, tls []components.Component) []proxy {
	out := []proxy{{name: names.ControlPlaneDaemonSet, components: cs, tls: tls, place: func(s *corev1.PodSpec) {
		s.NodeSelector = map[string]string{ControlPlaneLabel: ""}
	}}}
	if kp, ok := components.Lookup("kube-proxy"); ok && components.Contains(cs, kp.Name) {
		var nodeTLS []components.Component
		if components.Contains(tls, kp.Name) {
			nodeTLS = []components.Component{kp}
		}
		out = append(out, proxy{name: names.NodesDaemonSet, components: []components.Component{kp}, tls: nodeTLS, place: func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: ControlPlaneLabel, Operator: corev1.NodeSelectorOpDoesNotExist}},
				}}},
			}}
		}})
	}
	return out
}

// tlsValue is the metrics-proxy.io/tls annotation for tls.
func tlsValue(tls []components.Component) string {
	if len(tls) == 0 {
		return names.TLSNone
	}
	return components.Join(tls)
}

// objects returns the proxy's ConfigMap and DaemonSet stub in namespace, annotated alike so that
// the generated config and the injected pod (its certificate) agree.
func (p proxy) objects(namespace, tlsSecret string) []any {
	annotations := map[string]string{names.TLSAnnotation: tlsValue(p.tls)}
	if len(p.components) != len(components.All()) {
		annotations[names.ComponentsAnnotation] = components.Join(p.components)
	}
	dsAnnotations := map[string]string{names.ConfigMapAnnotation: p.name}
	for k, v := range annotations {
		dsAnnotations[k] = v
	}
	if tlsSecret != "" && len(p.tls) > 0 {
		dsAnnotations[names.TLSSecretAnnotation] = tlsSecret
	}
	spec := corev1.PodSpec{Containers: []corev1.Container{}}
	p.place(&spec)
	return []any{
		&corev1.ConfigMap{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: namespace,
				Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}, Annotations: annotations},
			Data: map[string]string{names.ConfigKey: inject.HAProxyConfigFiltered(p.components, p.tls, p.filter)},
		},
		&appsv1.DaemonSet{
			TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: namespace,
				Labels: map[string]string{names.InjectLabel: "true"}, Annotations: dsAnnotations},
			Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: spec}},
		},
	}
}
