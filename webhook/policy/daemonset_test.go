package policy_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
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
		}, nil, container + ".volumeMounts[2].mountPath", policy.RuleConfigVolume, "metrics-proxy"},
		{"config dir mounted twice", func(ds *appsv1.DaemonSet) {
			c := &ds.Spec.Template.Spec.Containers[0]
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "other", MountPath: names.ConfigDir + "/"})
		}, nil, container + ".volumeMounts[2].mountPath", policy.RuleConfigVolume, "metrics-proxy"},
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
		{"config volume projects every key", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Volumes[0].ConfigMap.Items = nil }, nil,
			podSpec + ".volumes[0].configMap.items", policy.RuleConfigVolume, "metrics-proxy"},
		{"config volume projects another key beside haproxy.cfg", func(ds *appsv1.DaemonSet) {
			cm := ds.Spec.Template.Spec.Volumes[0].ConfigMap
			cm.Items = append(cm.Items, corev1.KeyToPath{Key: "evil.cfg", Path: "evil.cfg"})
		}, nil, podSpec + ".volumes[0].configMap.items[1]", policy.RuleConfigVolume, "metrics-proxy"},
		{"another container", func(ds *appsv1.DaemonSet) {
			spec := &ds.Spec.Template.Spec
			spec.Containers = append(spec.Containers, corev1.Container{Name: "sidecar", Image: names.DefaultImage,
				Command: []string{"haproxy", "-f", "/usr/local/etc/haproxy/evil.cfg"}})
		}, nil, podSpec + ".containers[1]", policy.RuleOtherContainer, "metrics-proxy"},
		{"an init container", func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "setup", Image: "busybox"}}
		}, nil, podSpec + ".initContainers[0]", policy.RuleOtherContainer, "metrics-proxy"},
		{"an allowed name with another image", func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "setup", Image: "busybox"}}
		}, &policy.Policy{AllowedContainers: []policy.AllowedContainer{{Name: "setup", Image: "registry.example/setup:*"}}},
			podSpec + ".initContainers[0]", policy.RuleOtherContainer, "metrics-proxy"},
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

func TestValidateDaemonSetAllowedContainers(t *testing.T) {
	ds := proxyDaemonSet(t)
	spec := &ds.Spec.Template.Spec
	spec.InitContainers = []corev1.Container{{Name: "setup", Image: "registry.example/setup:v1"}}
	spec.Containers = append(spec.Containers, corev1.Container{Name: "reloader", Image: "registry.example/reloader:v2"})
	p := &policy.Policy{AllowedContainers: []policy.AllowedContainer{
		{Name: "setup", Image: "registry.example/setup:*"}, {Name: "reloader", Image: "registry.example/reloader:v2"}}}
	_, vs := policy.ValidateDaemonSet(ds, p)
	assert.Empty(t, vs, render(vs))
	_, vs = policy.ValidateDaemonSet(ds, nil)
	require.Len(t, vs, 2, render(vs))
	assert.Equal(t, podSpec+".containers[1]", vs[0].Source)
	assert.Equal(t, podSpec+".initContainers[0]", vs[1].Source)
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

	extra := configMap(map[string]string{names.ConfigKey: string(readSeed(t)), "evil.cfg": "listen l\n"})
	extra.BinaryData = map[string][]byte{"more.cfg": nil}
	vs = policy.ValidateConfigMap(extra, nil)
	require.Len(t, vs, 1, render(vs))
	assert.Equal(t, policy.RuleConfigKeys, vs[0].Rule)
	assert.Equal(t, "configmap/metrics-proxy", vs[0].Source)
	assert.Contains(t, vs[0].Message, "binaryData.more.cfg, data.evil.cfg")
	assert.Empty(t, policy.ValidateConfigMap(configMap(map[string]string{"evil.cfg": "listen l\n"}), nil),
		"without haproxy.cfg a ConfigMap is no proxy config")

	huge := configMap(map[string]string{names.ConfigKey: strings.Repeat("# padding\n", policy.MaxConfigBytes/10+1)})
	vs = policy.ValidateConfigMap(huge, nil)
	require.Len(t, vs, 1, "a config over the bound is not parsed")
	assert.Equal(t, policy.RuleObjectSize, vs[0].Rule)
	assert.Equal(t, "configmap/metrics-proxy:haproxy.cfg", vs[0].Source)
}

func TestValidateConfigMapUpdate(t *testing.T) {
	seed := string(readSeed(t))
	labelled := func(labels map[string]string, data map[string]string) *corev1.ConfigMap {
		cm := configMap(data)
		cm.Labels = labels
		return cm
	}
	proxy := map[string]string{names.ConfigLabel: names.ConfigLabelValue}
	cfg := map[string]string{names.ConfigKey: seed}
	tests := []struct {
		name     string
		old, cm  *corev1.ConfigMap
		wantRule policy.RuleID // empty: compliant
	}{
		{"create", nil, labelled(nil, cfg), ""},
		{"label kept", labelled(proxy, cfg), labelled(proxy, cfg), ""},
		{"label removed", labelled(proxy, cfg), labelled(nil, cfg), policy.RuleConfigLabel},
		{"label value changed", labelled(proxy, cfg), labelled(map[string]string{names.ConfigLabel: "draft"}, cfg), policy.RuleConfigLabel},
		{"label removed with haproxy.cfg", labelled(proxy, cfg), labelled(nil, map[string]string{"notes": "x"}), ""},
		{"label added", labelled(nil, cfg), labelled(proxy, cfg), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := policy.ValidateConfigMapUpdate(tt.old, tt.cm, nil)
			if tt.wantRule == "" {
				assert.Empty(t, vs, render(vs))
				return
			}
			require.Len(t, vs, 1, render(vs))
			assert.Equal(t, tt.wantRule, vs[0].Rule)
		})
	}
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

	withKeys := configMap(map[string]string{names.ConfigKey: string(readSeed(t)), "evil.cfg": "listen l\n"})
	vs, err = policy.ValidateProxy(proxyDaemonSet(t), nil, get(withKeys, nil))
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, "configmap/metrics-proxy: config-keys: ", vs[0].String()[:len("configmap/metrics-proxy: config-keys: ")])

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

	// A getter that knows the ConfigMap compliant (a verdict cache) skips it: the DaemonSet's own
	// violations remain.
	vs, err = policy.ValidateProxy(proxyDaemonSet(t), nil, get(leaky, fmt.Errorf("cached: %w", policy.ErrValidated)))
	require.NoError(t, err)
	assert.Empty(t, vs, "a ConfigMap validated before is not validated again")
	sidecar := proxyDaemonSet(t)
	sidecar.Spec.Template.Spec.Containers = append(sidecar.Spec.Template.Spec.Containers, corev1.Container{Name: "sidecar", Image: "busybox"})
	vs, err = policy.ValidateProxy(sidecar, nil, get(nil, policy.ErrValidated))
	require.NoError(t, err)
	require.NotEmpty(t, vs, "the DaemonSet is checked whatever its ConfigMap's verdict")
	assert.Contains(t, vs[0].String(), "sidecar")

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

func TestCheckDaemonSetJSON(t *testing.T) {
	containers := func(n int) string {
		cs := make([]string, n)
		for i := range cs {
			cs[i] = `{"name":"c` + strconv.Itoa(i) + `","image":"x"}`
		}
		return `{"spec":{"template":{"spec":{"containers":[` + strings.Join(cs, ",") + `]}}}}`
	}
	tests := []struct {
		name string
		raw  string
		want string // substring of the message; empty: no violation
	}{
		{"a stub", `{"metadata":{"name":"p"},"spec":{"template":{"spec":{"containers":[]}}}}`, ""},
		{"at the container bound", containers(policy.MaxContainers), ""},
		{"thousands of containers", containers(5000), "5000 containers"},
		{"init containers count too", `{"spec":{"template":{"spec":{"initContainers":[` + strings.Repeat(`{},`, policy.MaxContainers) + `{}]}}}}`, "33 containers"},
		{"deep nesting", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), "deeper than 64"},
		{"deep nesting in an unknown field", `{"spec":{"future":` + strings.Repeat(`{"a":`, 65) + `1` + strings.Repeat("}", 65) + `}}`, "deeper than 64"},
		{"brackets inside strings do not count", `{"metadata":{"annotations":{"a":"` + strings.Repeat(`[{\"`, 1000) + `"}}}`, ""},
		{"not JSON is left to the decoder", `{"spec":`, ""},
		{"a huge annotation", `{"metadata":{"annotations":{"a":"` + strings.Repeat("x", policy.MaxDaemonSetBytes) + `"}}}`, "a proxy is a few KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := policy.CheckDaemonSetJSON([]byte(tt.raw))
			if tt.want == "" {
				assert.Nil(t, v)
				return
			}
			require.NotNil(t, v)
			assert.Equal(t, policy.RuleObjectSize, v.Rule)
			assert.Contains(t, v.Message, tt.want)
		})
	}
}
