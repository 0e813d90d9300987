package deploy_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Namespace is where every namespaced object of the manifests lives.
const Namespace = "metrics-proxy-system"

// variant is one kustomization users install, and the --cert-mode it runs the server with.
type variant struct{ dir, mode string }

// variants are the base and the overlays.
var variants = []variant{
	{dir: "base", mode: "files"},
	{dir: "overlays/cert-manager", mode: "cert-manager"},
	{dir: "overlays/self-signed", mode: "self-signed"},
}

// built is the output of a kustomize build: the objects in order and the YAML stream.
type built struct {
	objects []*unstructured.Unstructured
	yaml    []byte
}

// kustomize builds dir (relative to this package) in-process, as `kubectl apply -k` would.
func kustomize(t *testing.T, dir string) *built {
	t.Helper()
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err, "kustomize build %s", dir)
	b := &built{}
	b.yaml, err = resources.AsYaml()
	require.NoError(t, err)
	for _, r := range resources.Resources() {
		data, err := r.MarshalJSON()
		require.NoError(t, err)
		o := &unstructured.Unstructured{}
		require.NoError(t, o.UnmarshalJSON(data)) // numbers as int64, as the API machinery wants
		b.objects = append(b.objects, o)
	}
	return b
}

// ofKind returns the objects of kind, in build order.
func (b *built) ofKind(kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range b.objects {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// find returns the object of kind and name, if the build has it.
func (b *built) find(kind, name string) (*unstructured.Unstructured, bool) {
	for _, o := range b.ofKind(kind) {
		if o.GetName() == name {
			return o, true
		}
	}
	return nil, false
}

// get decodes the object of kind and name into a typed object, strictly: a field the type does
// not know (a typo in the manifest) fails the test.
func (b *built) get(t *testing.T, kind, name string, into any) {
	t.Helper()
	o, ok := b.find(kind, name)
	require.True(t, ok, "no %s %s in the build", kind, name)
	decode(t, o, into)
}

// decode converts an object to a typed one, strictly.
func decode(t *testing.T, o *unstructured.Unstructured, into any) {
	t.Helper()
	data, err := yaml.Marshal(o.Object)
	require.NoError(t, err)
	require.NoError(t, yaml.UnmarshalStrict(data, into), "%s %s", o.GetKind(), o.GetName())
}

// forEachVariant runs f as a subtest for the base and each overlay.
func forEachVariant(t *testing.T, f func(t *testing.T, v variant, b *built)) {
	for _, v := range variants {
		t.Run(v.mode, func(t *testing.T) { f(t, v, kustomize(t, v.dir)) })
	}
}
