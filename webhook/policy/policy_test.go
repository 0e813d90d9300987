package policy_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

func TestDefault(t *testing.T) {
	p := policy.Default()
	assert.Equal(t, policy.EnforcementDeny, p.Enforcement)
	assert.Equal(t, []string{"/metrics"}, p.AllowedPaths)
	assert.Empty(t, p.AllowedMethods)
	assert.Equal(t, components.All(), p.Components)
	assert.Equal(t, []string{"haproxy:3.0*"}, p.AllowedImages)
	assert.False(t, p.ImageAllowed(names.SeedImage), "the seed's HAProxy 2.5.8 image is not allowed by default")
	assert.Empty(t, p.ExemptNamespaces)
	assert.True(t, p.ImageAllowed(names.DefaultImage))
	p.AllowedPaths[0] = "/changed"
	assert.Equal(t, []string{"/metrics"}, policy.Default().AllowedPaths, "each call returns fresh slices")
}

func TestParse(t *testing.T) {
	full := `apiVersion: metrics-proxy.io/v1alpha1
kind: Policy
enforcement: Warn
allowedPaths: [/metrics, /metrics/cadvisor]
allowedMethods: [GET, HEAD]
components: [etcd, kube-proxy]
allowedImages: ["haproxy:2.8*", "registry.example.com/*"]
exemptNamespaces: [kube-system]
allowedContainers: [{name: reloader, image: "registry.example.com/reloader:*"}]
`
	p, err := policy.Parse([]byte(full))
	require.NoError(t, err)
	etcd, _ := components.Lookup("etcd")
	kubeProxy, _ := components.Lookup("kube-proxy")
	assert.Equal(t, &policy.Policy{
		Enforcement:       policy.EnforcementWarn,
		AllowedPaths:      []string{"/metrics", "/metrics/cadvisor"},
		AllowedMethods:    []string{"GET", "HEAD"},
		Components:        []components.Component{etcd, kubeProxy},
		AllowedImages:     []string{"haproxy:2.8*", "registry.example.com/*"},
		ExemptNamespaces:  []string{"kube-system"},
		AllowedContainers: []policy.AllowedContainer{{Name: "reloader", Image: "registry.example.com/reloader:*"}},
	}, p)

	minimal, err := policy.Parse([]byte("apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\n"))
	require.NoError(t, err)
	assert.Equal(t, policy.Default(), minimal, "omitted fields take the defaults")

	asJSON, err := policy.Parse([]byte(`{"apiVersion":"metrics-proxy.io/v1alpha1","kind":"Policy","enforcement":"Deny","allowedMethods":[]}`))
	require.NoError(t, err)
	assert.Equal(t, policy.Default(), asJSON, "JSON, and an empty allowedMethods means any")

	documented := `apiVersion: metrics-proxy.io/v1alpha1
kind: Policy
enforcement: Deny            # Deny | Warn
allowedPaths: [/metrics]
allowedMethods: []           # e.g. [GET, HEAD]; empty: any
components: [kube-proxy, kube-controller-manager, kube-scheduler, etcd]
allowedImages: ["haproxy:3.0*"]
exemptNamespaces: []
allowedContainers: []        # e.g. [{name: reloader, image: "registry.example/reloader:*"}]
`
	d, err := policy.Parse([]byte(documented))
	require.NoError(t, err)
	assert.Equal(t, policy.Default(), d, "the documented example is the default")
}

func TestParseErrors(t *testing.T) {
	const head = "apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\n"
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error
	}{
		{"empty file", "", []string{"apiVersion", "kind"}},
		{"wrong apiVersion", "apiVersion: v1\nkind: Policy\n", []string{"apiVersion", `"v1"`}},
		{"wrong kind", "apiVersion: metrics-proxy.io/v1alpha1\nkind: ConfigMap\n", []string{"kind", `"ConfigMap"`}},
		{"unknown field", head + "allowedPath: [/metrics]\n", []string{"allowedPath"}},
		{"repeated field", head + "enforcement: Deny\nenforcement: Warn\n", []string{"enforcement"}},
		{"bad enforcement", head + "enforcement: deny\n", []string{"enforcement", `"deny"`, "Deny or Warn"}},
		{"empty enforcement", head + "enforcement: \"\"\n", []string{"enforcement", `""`}},
		{"empty paths", head + "allowedPaths: []\n", []string{"allowedPaths", "empty"}},
		{"relative path", head + "allowedPaths: [metrics]\n", []string{"allowedPaths[0]", `"metrics"`, "'/'"}},
		{"path with a query", head + "allowedPaths: [/metrics, \"/metrics?x=1\"]\n", []string{"allowedPaths[1]", `"/metrics?x=1"`, "query"}},
		{"path with a blank", head + "allowedPaths: [\"/a b\"]\n", []string{"allowedPaths[0]", "blank"}},
		{"method not a token", head + "allowedMethods: [GET, \"GE T\"]\n", []string{"allowedMethods[1]", `"GE T"`, "token"}},
		{"empty method", head + "allowedMethods: [\"\"]\n", []string{"allowedMethods[0]", `""`}},
		{"unknown component", head + "components: [kube-proxy, kubelet]\n", []string{"components[1]", `"kubelet"`, "unknown"}},
		{"repeated component", head + "components: [etcd, etcd]\n", []string{"components[1]", `"etcd"`, "twice"}},
		{"empty components", head + "components: []\n", []string{"components", "empty"}},
		{"bad glob", head + "allowedImages: [\"haproxy:[0-9]*\"]\n", []string{"allowedImages[0]", `"haproxy:[0-9]*"`}},
		{"empty glob", head + "allowedImages: [\"\"]\n", []string{"allowedImages[0]", "empty"}},
		{"empty images", head + "allowedImages: []\n", []string{"allowedImages", "empty"}},
		{"bad namespace", head + "exemptNamespaces: [Kube_System]\n", []string{"exemptNamespaces[0]", `"Kube_System"`}},
		{"container without a name", head + "allowedContainers: [{image: x}]\n", []string{"allowedContainers[0].name", `""`}},
		{"container named haproxy", head + "allowedContainers: [{name: haproxy, image: x}]\n", []string{"allowedContainers[0].name", "injected"}},
		{"container listed twice", head + "allowedContainers: [{name: a, image: x}, {name: a, image: y}]\n", []string{"allowedContainers[1].name", "twice"}},
		{"container without an image", head + "allowedContainers: [{name: a}]\n", []string{"allowedContainers[0].image", "empty"}},
		{"container with an unknown field", head + "allowedContainers: [{name: a, image: x, command: [sh]}]\n", []string{"command"}},
		{"several errors at once", head + "enforcement: Maybe\ncomponents: [kubelet]\n", []string{"enforcement", "Maybe", "components[0]", "kubelet"}},
		{"not YAML", "{", []string{"invalid policy"}},
		{"wrong type", head + "allowedPaths: /metrics\n", []string{"allowedPaths"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policy.Parse([]byte(tt.yaml))
			require.Error(t, err)
			assert.Nil(t, p)
			assert.True(t, errors.Is(err, policy.ErrInvalidPolicy), "wraps ErrInvalidPolicy: %v", err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Regexp(t, `^[a-z]`, err.Error(), "lower case")
		})
	}
}

func TestExempt(t *testing.T) {
	p := &policy.Policy{ExemptNamespaces: []string{"kube-system", "monitoring"}}
	assert.True(t, p.Exempt("monitoring"))
	assert.False(t, p.Exempt("monitor"))
	assert.False(t, p.Exempt(""))
	assert.False(t, policy.Default().Exempt("kube-system"))
	var none *policy.Policy
	assert.False(t, none.Exempt("kube-system"))
}

func TestImageAllowed(t *testing.T) {
	p := &policy.Policy{AllowedImages: []string{
		"public.ecr.aws/eks-anywhere/kubernetes-sigs/kind/haproxy:*",
		"docker.io/library/haproxy:2.8.?",
		"registry.example.com/*",
		"exact:1.0",
	}}
	for image, want := range map[string]bool{
		names.SeedImage: true,
		"public.ecr.aws/eks-anywhere/kubernetes-sigs/kind/haproxy:v0.20.0-eks-a-54@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef": true,
		"public.ecr.aws/eks-anywhere/kubernetes-sigs/kind/haproxy":                     false,
		"public.ecr.aws/eks-anywhere/kubernetes-sigs/kind/haproxyx:v1":                 false,
		"evil.example.com/public.ecr.aws/eks-anywhere/kubernetes-sigs/kind/haproxy:v1": false,
		"docker.io/library/haproxy:2.8.5":                                              true,
		"docker.io/library/haproxy:2.8.10":                                             false,
		"registry.example.com/team/haproxy:1":                                          true, // '*' crosses '/'
		"registry.example.com":                                                         false,
		"exact:1.0":                                                                    true,
		"exact:1.01":                                                                   false,
		"":                                                                             false,
	} {
		assert.Equal(t, want, p.ImageAllowed(image), image)
	}
	assert.True(t, (&policy.Policy{}).ImageAllowed(names.DefaultImage), "an empty list takes the default")
	assert.True(t, (&policy.Policy{AllowedImages: []string{"*"}}).ImageAllowed("anything/at:all"))
	assert.True(t, (&policy.Policy{AllowedImages: []string{"a*b*c"}}).ImageAllowed("aXbYbZc"))
	assert.False(t, (&policy.Policy{AllowedImages: []string{"a*b*c"}}).ImageAllowed("aXbYbZ"))
}
