package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestBindTLSOptions: the only bind options accepted are exactly the generator's
// `ssl crt /run/metrics-proxy/tls/frontend.pem`; the policy's frontendTLS decides whether a
// component's frontend may, must or must not have them.
func TestBindTLSOptions(t *testing.T) {
	tlsBind := "  bind ${NODE_IP}:10249 ssl crt /run/metrics-proxy/tls/frontend.pem\n"
	withBind := func(b string) string { return kp(b+deny+route, server) }
	req := func(r policy.TLSRequirement) *policy.Policy {
		return &policy.Policy{FrontendTLS: map[string]policy.TLSRequirement{"kube-proxy": r}}
	}
	tests := []struct {
		name   string
		cfg    string
		policy *policy.Policy
		want   []policy.RuleID
	}{
		{name: "tls as generated", cfg: withBind(tlsBind)},
		{name: "plain, allowed by default", cfg: std()},
		{name: "tls, required", cfg: withBind(tlsBind), policy: req(policy.TLSRequired)},
		{name: "plain, required", cfg: std(), policy: req(policy.TLSRequired), want: []policy.RuleID{policy.RuleFrontendTLS}},
		{name: "tls, forbidden", cfg: withBind(tlsBind), policy: req(policy.TLSForbidden), want: []policy.RuleID{policy.RuleFrontendTLS}},
		{name: "plain, forbidden", cfg: std(), policy: req(policy.TLSForbidden)},
		{name: "requirement of another component", cfg: std(), policy: &policy.Policy{FrontendTLS: map[string]policy.TLSRequirement{"etcd": policy.TLSRequired}}},
		{name: "another certificate path", cfg: withBind("  bind ${NODE_IP}:10249 ssl crt /tmp/mine.pem\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "a certificate directory", cfg: withBind("  bind ${NODE_IP}:10249 ssl crt /run/metrics-proxy/tls/\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "ssl alone", cfg: withBind("  bind ${NODE_IP}:10249 ssl\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "client verification added", cfg: withBind("  bind ${NODE_IP}:10249 ssl crt /run/metrics-proxy/tls/frontend.pem verify optional\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "options reordered", cfg: withBind("  bind ${NODE_IP}:10249 crt /run/metrics-proxy/tls/frontend.pem ssl\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "accept-proxy", cfg: withBind("  bind ${NODE_IP}:10249 accept-proxy\n"), want: []policy.RuleID{policy.RuleBind}},
		{name: "tls still needs the path deny", cfg: kp(tlsBind+route, server), want: []policy.RuleID{policy.RulePathDeny}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := policy.ValidateConfig([]byte(tt.cfg), tt.policy)
			var got []policy.RuleID
			for _, v := range vs {
				got = append(got, v.Rule)
			}
			assert.Equal(t, tt.want, got, render(vs))
		})
	}
}

// TestGeneratedTLSSubsets: the generated config with any set of TLS frontends complies, under
// the default policy and under one that requires TLS exactly where the config has it.
func TestGeneratedTLSSubsets(t *testing.T) {
	all := components.All()
	for _, tls := range append(testtool.ComponentSubsets(), nil) {
		cfg := []byte(inject.HAProxyConfigTLS(all, tls))
		assert.Empty(t, policy.ValidateConfig(cfg, nil), components.Join(tls))
		p := &policy.Policy{FrontendTLS: map[string]policy.TLSRequirement{}}
		for _, c := range all {
			p.FrontendTLS[c.Name] = policy.TLSForbidden
		}
		for _, c := range tls {
			p.FrontendTLS[c.Name] = policy.TLSRequired
		}
		assert.Empty(t, policy.ValidateConfig(cfg, p), components.Join(tls))
	}
}

func TestParseFrontendTLS(t *testing.T) {
	head := "apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\n"
	p, err := policy.Parse([]byte(head + "frontendTLS: {kube-controller-manager: required, etcd: forbidden, kube-proxy: allowed}\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]policy.TLSRequirement{"kube-controller-manager": policy.TLSRequired,
		"etcd": policy.TLSForbidden, "kube-proxy": policy.TLSAllowed}, p.FrontendTLS)

	_, err = policy.Parse([]byte(head + "frontendTLS: {kubelet: required, etcd: always}\n"))
	require.ErrorIs(t, err, policy.ErrInvalidPolicy)
	assert.ErrorContains(t, err, `frontendTLS: "kubelet": unknown component`)
	assert.ErrorContains(t, err, `frontendTLS.etcd: "always": want allowed, required or forbidden`)
}

// TestProxyCertContainer: the injected proxy-cert init container is allowed by default with the
// metrics-proxy image, exactly as injected; another image, other arguments or other mounts are
// not, unless allowedContainers names its image.
func TestProxyCertContainer(t *testing.T) {
	injected := func(image string, mod func(*corev1.Container)) *appsv1.DaemonSet {
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "monitoring"}}
		require.NoError(t, inject.DaemonSet(ds, inject.Config{InjectorImage: image}))
		require.Len(t, ds.Spec.Template.Spec.InitContainers, 1)
		if mod != nil {
			mod(&ds.Spec.Template.Spec.InitContainers[0])
		}
		return ds
	}
	mine := &policy.Policy{AllowedContainers: []policy.AllowedContainer{{Name: names.ProxyCertContainer, Image: "registry.example/metrics-proxy:*"}}}
	tests := []struct {
		name   string
		ds     *appsv1.DaemonSet
		policy *policy.Policy
		want   int
	}{
		{name: "as injected, default image", ds: injected("", nil)},
		{name: "another image", ds: injected("evil.example/tool:1", nil), want: 1},
		{name: "own image listed", ds: injected("registry.example/metrics-proxy:v1", nil), policy: mine},
		{name: "own image, default image no longer listed", ds: injected("", nil), policy: mine, want: 1},
		{name: "a command", ds: injected("", func(c *corev1.Container) { c.Command = []string{"/bin/sh"} }), want: 1},
		{name: "other arguments", ds: injected("", func(c *corev1.Container) { c.Args = append(c.Args, "--debug") }), want: 1},
		{name: "another mount", ds: injected("", func(c *corev1.Container) {
			c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: names.VolumeName, MountPath: "/x"})
		}), want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, vs := policy.ValidateDaemonSet(tt.ds, tt.policy)
			assert.Len(t, vs, tt.want, render(vs))
			for _, v := range vs {
				assert.Equal(t, policy.RuleOtherContainer, v.Rule, v.String())
			}
		})
	}
}
