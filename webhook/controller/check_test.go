package controller_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/controller"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestCheckDaemonSet: the findings about one DaemonSet, from the pure cores alone.
func TestCheckDaemonSet(t *testing.T) {
	enabled := map[string]string{names.NamespaceInjectionLabel: "enabled"}
	cfg := inject.Config{Version: "v2"}
	goodCM := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: names.DefaultConfigMap,
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}},
		Data: map[string]string{names.ConfigKey: inject.HAProxyConfig(components.All())}}
	edited := goodCM.DeepCopy()
	edited.Data[names.ConfigKey] = inject.HAProxyConfig(components.All()[:1])
	injected := func(version string, cm *corev1.ConfigMap, mutate func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
		ds := stub("proxy", nil)
		if mutate != nil {
			mutate(ds)
		}
		require.NoError(t, inject.DaemonSet(ds, inject.Config{Version: version, ConfigHash: inject.ConfigHash(cm)}))
		return ds
	}
	strict := policy.Default()
	strict.AllowedMethods = []string{"GET"}
	tests := []struct {
		name   string
		ds     *appsv1.DaemonSet
		nsLbls map[string]string
		cm     *corev1.ConfigMap
		p      *policy.Policy
		want   []controller.Reason
	}{
		{name: "injected by this version, current config: nothing", ds: injected("v2", goodCM, nil), nsLbls: enabled, cm: goodCM},
		{name: "not selected, not injected: out of scope", ds: stub("other", nil)},
		{name: "opted out in an enabled namespace: out of scope", ds: stub("out", map[string]string{names.InjectLabel: "false"}), nsLbls: enabled},
		{name: "enabled namespace, never injected", ds: stub("early", nil), nsLbls: enabled, want: []controller.Reason{controller.ReasonNotInjected}},
		{name: "labelled, never injected", ds: stub("early", map[string]string{names.InjectLabel: "true"}), want: []controller.Reason{controller.ReasonNotInjected}},
		{name: "injected by an older version", ds: injected("v1", goodCM, nil), nsLbls: enabled, cm: goodCM, want: []controller.Reason{controller.ReasonStaleInjection}},
		{name: "spec edited past the webhook: the policy reports it", ds: func() *appsv1.DaemonSet {
			ds := injected("v2", goodCM, nil)
			ds.Spec.Template.Spec.HostNetwork = false
			return ds
		}(), nsLbls: enabled, cm: goodCM, want: []controller.Reason{controller.ReasonPolicyViolation}},
		{name: "same version, another default image", ds: func() *appsv1.DaemonSet {
			ds := stub("proxy", nil)
			ds.Spec.Template.Spec.Containers[0].Image = "" // a user's image would be kept, through the annotation
			require.NoError(t, inject.DaemonSet(ds, inject.Config{Version: "v2", ConfigHash: inject.ConfigHash(goodCM),
				DefaultImage: "haproxy:3.0.0"}))
			return ds
		}(), nsLbls: enabled, cm: goodCM, want: []controller.Reason{controller.ReasonStaleInjection}},
		{name: "invalid annotation since injection", ds: func() *appsv1.DaemonSet {
			ds := injected("v2", goodCM, nil)
			ds.Annotations[names.ComponentsAnnotation] = "kube-dns"
			return ds
		}(), nsLbls: enabled, cm: goodCM, want: []controller.Reason{controller.ReasonInjectionFailed}},
		{name: "stricter policy", ds: injected("v2", goodCM, nil), nsLbls: enabled, cm: goodCM, p: strict, want: []controller.Reason{controller.ReasonPolicyViolation}},
		{name: "exempt namespace: no policy finding", ds: injected("v2", goodCM, nil), nsLbls: enabled, cm: goodCM,
			p: &policy.Policy{AllowedMethods: []string{"GET"}, ExemptNamespaces: []string{"ns"}}},
		{name: "config edited, hash not rolled yet", ds: injected("v2", goodCM, nil), nsLbls: enabled, cm: edited, want: []controller.Reason{controller.ReasonConfigHashOutdated}},
		{name: "ConfigMap missing", ds: injected("v2", nil, nil), nsLbls: enabled, want: []controller.Reason{controller.ReasonPolicyViolation}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := controller.CheckDaemonSet(tt.ds, controller.ProxyInput{NamespaceLabels: tt.nsLbls, ConfigMap: tt.cm}, tt.p, cfg)
			require.NoError(t, err)
			var got []controller.Reason
			for _, f := range fs {
				got = append(got, f.Reason)
				assert.Equal(t, controller.KindDaemonSet, f.Kind)
				assert.NotEmpty(t, f.Message)
			}
			assert.Equal(t, tt.want, got, "%+v", fs)
		})
	}
}

// TestCheckConfigMap: a proxy config is reported against a policy it violates, not against one
// it complies with or in an exempt namespace.
func TestCheckConfigMap(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cfg"},
		Data: map[string]string{names.ConfigKey: inject.HAProxyConfig(components.All())}}
	assert.Empty(t, controller.CheckConfigMap(cm, policy.Default()))
	only := policy.Default()
	only.Components = components.All()[:1]
	fs := controller.CheckConfigMap(cm, only)
	require.Len(t, fs, 1)
	assert.Equal(t, controller.ReasonPolicyViolation, fs[0].Reason)
	assert.Contains(t, fs[0].Message, "haproxy.cfg:")
	only.ExemptNamespaces = []string{"ns"}
	assert.Empty(t, controller.CheckConfigMap(cm, only))
}

// TestParseReinjectMode: off by default, stale on request, anything else an error naming both.
func TestParseReinjectMode(t *testing.T) {
	for in, want := range map[string]controller.ReinjectMode{"": controller.ReinjectOff, "off": controller.ReinjectOff, "stale": controller.ReinjectStale} {
		got, err := controller.ParseReinjectMode(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := controller.ParseReinjectMode("always")
	assert.ErrorContains(t, err, `"always": want off or stale`)
}

// stub is a DaemonSet in namespace ns as the seed procedure writes one by hand: the haproxy
// container, nothing injected yet.
func stub(name string, lbls map[string]string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: lbls},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: names.ContainerName, Image: names.DefaultImage}}}}}}
}
