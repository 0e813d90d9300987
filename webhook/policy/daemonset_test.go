package policy_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// proxyDaemonSet is a stub completed by the injector: a compliant proxy.
func proxyDaemonSet(t *testing.T) *appsv1.DaemonSet {
	t.Helper()
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "metrics-proxy", Namespace: "observability"}}
	require.NoError(t, inject.DaemonSet(ds, inject.Config{Version: "test"}))
	return ds
}

const (
	podSpec   = "spec.template.spec"
	container = podSpec + ".containers[0]"
)

func TestValidateDaemonSetInjected(t *testing.T) {
	ds := proxyDaemonSet(t)
	cm, vs := policy.ValidateDaemonSet(ds, nil)
	assert.Empty(t, vs, render(vs))
	assert.Equal(t, names.DefaultConfigMap, cm)

	ds = &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{names.ConfigMapAnnotation: "mine"}}}
	require.NoError(t, inject.DaemonSet(ds, inject.Config{}))
	cm, vs = policy.ValidateDaemonSet(ds, policy.Default())
	assert.Empty(t, vs, render(vs))
	assert.Equal(t, "mine", cm)
}

func TestValidateDaemonSetBroken(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(*appsv1.DaemonSet)
		policy  *policy.Policy
		source  string
		rule    policy.RuleID
		cm      string // the ConfigMap still reported
	}{
		{"no host network", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.HostNetwork = false }, nil,
			podSpec + ".hostNetwork", policy.RuleHostNetwork, "metrics-proxy"},
		{"no haproxy container", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Name = "proxy" }, nil,
			podSpec + ".containers", policy.RuleProxyContainer, ""},
		{"image not allowed", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "haproxy:2.8" }, nil,
			container + ".image", policy.RuleImage, "metrics-proxy"},
		{"default image not in a custom policy", func(*appsv1.DaemonSet) {}, &policy.Policy{AllowedImages: []string{"haproxy:2.8.*"}},
			container + ".image", policy.RuleImage, "metrics-proxy"},
		{"command", func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers[0].Command = []string{"haproxy", "-f", "/tmp/other.cfg"}
		}, nil, container + ".command", policy.RuleContainerCommand, "metrics-proxy"},
		{"args", func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers[0].Args = []string{"-f", "/tmp/other.cfg"}
		}, nil,
			container + ".args", policy.RuleContainerCommand, "metrics-proxy"},
		{"no NODE_IP", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Env = nil }, nil,
			container + ".env", policy.RuleNodeIPEnv, "metrics-proxy"},
		{"NODE_IP a fixed value", func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "NODE_IP", Value: "0.0.0.0"}}
		}, nil, container + ".env[0]", policy.RuleNodeIPEnv, "metrics-proxy"},
		{"NODE_IP from the pod IP", func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers[0].Env[0].ValueFrom.FieldRef.FieldPath = "status.podIP"
		}, nil, container + ".env[0]", policy.RuleNodeIPEnv, "metrics-proxy"},
		{"NODE_IP overridden by a later entry", func(ds *appsv1.DaemonSet) {
			c := &ds.Spec.Template.Spec.Containers[0]
			c.Env = append(c.Env, corev1.EnvVar{Name: "NODE_IP", Value: ""})
		}, nil, container + ".env[1]", policy.RuleNodeIPEnv, "metrics-proxy"},
		{"nothing mounted at the config dir", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].VolumeMounts = nil }, nil,
			container + ".volumeMounts", policy.RuleConfigVolume, ""},
		{"config dir mounted with subPath", func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers[0].VolumeMounts[0].SubPath = "x"
		}, nil, container + ".volumeMounts[0]", policy.RuleConfigVolume, "metrics-proxy"},
		{"a mount shadows haproxy.cfg", func(ds *appsv1.DaemonSet) {
			c := &ds.Spec.Template.Spec.Containers[0]
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "other", MountPath: names.ConfigDir + "/haproxy.cfg", SubPath: "evil.cfg"})
		}, nil, container + ".volumeMounts[1].mountPath", policy.RuleConfigVolume, "metrics-proxy"},
		{"config dir mounted twice", func(ds *appsv1.DaemonSet) {
			c := &ds.Spec.Template.Spec.Containers[0]
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "other", MountPath: names.ConfigDir + "/"})
		}, nil, container + ".volumeMounts[1].mountPath", policy.RuleConfigVolume, "metrics-proxy"},
		{"config volume an emptyDir", func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
		}, nil, podSpec + ".volumes[0]", policy.RuleConfigVolume, ""},
		{"config volume projected", func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Volumes[0].VolumeSource = corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{}}
		}, nil, podSpec + ".volumes[0]", policy.RuleConfigVolume, ""},
		{"another key projected to haproxy.cfg", func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Volumes[0].ConfigMap.Items = []corev1.KeyToPath{{Key: "evil.cfg", Path: "./haproxy.cfg"}}
		}, nil, podSpec + ".volumes[0].configMap.items[0]", policy.RuleConfigVolume, "metrics-proxy"},
		{"config volume missing", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Volumes = nil }, nil,
			container + ".volumeMounts[0].name", policy.RuleConfigVolume, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := proxyDaemonSet(t)
			tt.breakIt(ds)
			cm, vs := policy.ValidateDaemonSet(ds, tt.policy)
			require.Len(t, vs, 1, render(vs))
			assert.Equal(t, tt.source, vs[0].Source)
			assert.Equal(t, tt.rule, vs[0].Rule)
			assert.Zero(t, vs[0].Line)
			assert.Regexp(t, `^[a-z]`, vs[0].Message)
			assert.Equal(t, tt.cm, cm)
			assert.Equal(t, tt.source+": "+string(tt.rule)+": "+vs[0].Message, vs[0].String())
		})
	}
}

func TestValidateDaemonSetTolerant(t *testing.T) {
	_, vs := policy.ValidateDaemonSet(nil, nil)
	require.Len(t, vs, 1)
	assert.Equal(t, policy.RuleProxyContainer, vs[0].Rule)

	ds := proxyDaemonSet(t)
	c := &ds.Spec.Template.Spec.Containers[0]
	c.Env = append([]corev1.EnvVar{{Name: "NODE_IP", Value: "0.0.0.0"}}, c.Env...)
	c.VolumeMounts[0].MountPath = names.ConfigDir + "/"
	_, vs = policy.ValidateDaemonSet(ds, nil)
	assert.Empty(t, vs, "the last NODE_IP wins; a trailing slash is the same directory:\n%s", render(vs))

	// Every violation at once.
	c.Image, c.Args, c.Env = "busybox", []string{"-f", "/x"}, nil
	ds.Spec.Template.Spec.HostNetwork = false
	_, vs = policy.ValidateDaemonSet(ds, nil)
	var rules []policy.RuleID
	for _, v := range vs {
		rules = append(rules, v.Rule)
	}
	assert.Equal(t, []policy.RuleID{policy.RuleHostNetwork, policy.RuleImage, policy.RuleContainerCommand, policy.RuleNodeIPEnv}, rules)
}

func configMap(data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "metrics-proxy", Namespace: "observability"}, Data: data}
}

func TestValidateConfigMap(t *testing.T) {
	assert.Empty(t, policy.ValidateConfigMap(configMap(map[string]string{names.ConfigKey: string(readSeed(t))}), nil))
	assert.Empty(t, policy.ValidateConfigMap(configMap(nil), nil), "no haproxy.cfg, nothing to check")
	assert.Empty(t, policy.ValidateConfigMap(nil, nil))
	vs := policy.ValidateConfigMap(configMap(map[string]string{names.ConfigKey: "frontend f\n  bind *:10249\n"}), nil)
	assert.NotEmpty(t, vs)
	bin := configMap(nil)
	bin.BinaryData = map[string][]byte{names.ConfigKey: []byte("listen l\n")}
	vs = policy.ValidateConfigMap(bin, nil)
	require.Len(t, vs, 2)
	assert.Equal(t, policy.RuleListenSection, vs[0].Rule, "binaryData is checked too")
	assert.Equal(t, policy.RuleBindCount, vs[1].Rule, "and has no frontend")
}

func TestValidateProxy(t *testing.T) {
	seed := configMap(map[string]string{names.ConfigKey: string(readSeed(t))})
	leaky := configMap(map[string]string{names.ConfigKey: kp(bind+"  http-request allow\n"+deny+route, server)})
	get := func(cm *corev1.ConfigMap, err error) policy.GetConfigMap {
		return func(namespace, name string) (*corev1.ConfigMap, error) {
			assert.Equal(t, "observability", namespace)
			assert.Equal(t, "metrics-proxy", name)
			return cm, err
		}
	}
	vs, err := policy.ValidateProxy(proxyDaemonSet(t), nil, get(seed, nil))
	require.NoError(t, err)
	assert.Empty(t, vs)

	vs, err = policy.ValidateProxy(proxyDaemonSet(t), nil, get(leaky, nil))
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, "configmap/metrics-proxy:haproxy.cfg:8: http-request-action: http-request allow ends rule evaluation: no later deny applies; only http-request deny is allowed", vs[0].String())

	vs, err = policy.ValidateProxy(proxyDaemonSet(t), nil, get(nil, nil))
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, policy.RuleConfigVolume, vs[0].Rule)
	assert.Equal(t, podSpec+".volumes[0].configMap.name", vs[0].Source)

	vs, err = policy.ValidateProxy(proxyDaemonSet(t), nil, get(configMap(map[string]string{"other": "x"}), nil))
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Contains(t, vs[0].Message, "no haproxy.cfg key")

	boom := errors.New("boom")
	_, err = policy.ValidateProxy(proxyDaemonSet(t), nil, get(nil, boom))
	assert.ErrorIs(t, err, boom)

	ds := proxyDaemonSet(t)
	ds.Spec.Template.Spec.Volumes = nil
	vs, err = policy.ValidateProxy(ds, nil, func(string, string) (*corev1.ConfigMap, error) {
		t.Fatal("no ConfigMap to get")
		return nil, nil
	})
	require.NoError(t, err)
	assert.Len(t, vs, 1)
	vs, err = policy.ValidateProxy(proxyDaemonSet(t), nil, nil)
	require.NoError(t, err)
	assert.Empty(t, vs, "no getter: the DaemonSet alone")
}
