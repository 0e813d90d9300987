package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// goldenVersion is the injector version the goldens record in their status annotations.
const goldenVersion = "golden"

// TestInjectGolden drives one set of golden files through both paths that inject: the CLI
// (`metrics-proxy inject -f`, compared byte for byte) and the admission handlers (an
// AdmissionReview per object, the returned JSON patch applied to the input, compared as objects).
func TestInjectGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/inject/*.yaml")
	require.NoError(t, err)
	inputs = withoutGoldens(inputs)
	require.NotEmpty(t, inputs)
	goldens, err := filepath.Glob("testdata/inject/*.golden")
	require.NoError(t, err)
	for _, g := range goldens {
		assert.FileExists(t, strings.TrimSuffix(g, ".golden")+".yaml", "golden %s has no input: delete it", g)
	}

	for _, input := range inputs {
		name := strings.TrimSuffix(filepath.Base(input), ".yaml")
		golden := strings.TrimSuffix(input, ".yaml") + ".golden"
		t.Run(name, func(t *testing.T) {
			cli := runCLI(t, "inject", "--namespace-enabled", "-f", input) // the webhook sees only what its selection lets through
			if *update {
				require.NoError(t, os.WriteFile(golden, cli, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "missing golden: run go test ./cmd/metrics-proxy -update")

			t.Run("cli", func(t *testing.T) {
				assert.Equal(t, string(want), string(cli), "CLI output differs from %s", golden)
			})
			t.Run("webhook", func(t *testing.T) {
				in := readDocs(t, input)
				out := readDocs(t, golden)
				require.Len(t, out, len(in))
				for i := range in {
					got := throughWebhook(t, in[i])
					assert.JSONEq(t, toJSON(t, out[i].YAML), string(got), "document %d through the webhook", i+1)
				}
			})
			t.Run("idempotent", func(t *testing.T) {
				for _, d := range readDocs(t, golden) {
					raw := toJSON(t, d.YAML)
					if resp := review(t, d, []byte(raw)); resp != nil {
						assert.Empty(t, resp.Patches, "re-injecting document %d must yield no patch", d.Index)
					}
				}
			})
		})
	}
}

// TestSeedAndStubBecomeTheSameProxy: the seed's hand-written DaemonSet and a bare stub turn into
// the same pod spec but for the image: injection reproduces what the seed procedure writes by
// hand, and keeps the seed's image (the user wrote it) through the image annotation.
func TestSeedAndStubBecomeTheSameProxy(t *testing.T) {
	podSpec := func(file string) string {
		var ds struct {
			Spec struct {
				Template struct {
					Spec json.RawMessage `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		}
		require.NoError(t, yaml.Unmarshal(runCLI(t, "inject", "--namespace-enabled", "-f", file), &ds))
		return string(ds.Spec.Template.Spec)
	}
	seed := podSpec("testdata/inject/seed-daemonset.yaml")
	require.Contains(t, seed, `"image":"`+names.SeedImage+`"`, "the seed's image is kept")
	assert.JSONEq(t, strings.Replace(seed, names.SeedImage, names.DefaultImage, 1), podSpec("testdata/inject/stub-empty-containers.yaml"))
}

// withoutGoldens drops *.golden.yaml should anyone name a golden that way.
func withoutGoldens(files []string) []string {
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".golden.yaml") {
			out = append(out, f)
		}
	}
	return out
}

// runCLI runs metrics-proxy with args and returns its standard output; it must exit 0.
func runCLI(t *testing.T, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), goldenVersion, args, strings.NewReader(""), &stdout, &stderr)
	require.Equal(t, exitOK, code, "metrics-proxy %s: %s", strings.Join(args, " "), stderr.String())
	return stdout.Bytes()
}

func readDocs(t *testing.T, file string) []manifest.Document {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	docs, err := manifest.Read(f)
	require.NoError(t, err)
	return docs
}

func toJSON(t *testing.T, y []byte) string {
	t.Helper()
	j, err := yaml.YAMLToJSON(y)
	require.NoError(t, err)
	return string(j)
}

// throughWebhook sends one document to the handler the webhook configuration routes it to and
// applies the returned patch; documents no webhook sees come back as they are.
func throughWebhook(t *testing.T, d manifest.Document) []byte {
	t.Helper()
	raw := []byte(toJSON(t, d.YAML))
	resp := review(t, d, raw)
	if resp == nil || len(resp.Patches) == 0 {
		return raw
	}
	ops, err := json.Marshal(resp.Patches)
	require.NoError(t, err)
	patch, err := jsonpatch.DecodePatch(ops)
	require.NoError(t, err)
	out, err := patch.Apply(raw)
	require.NoError(t, err)
	return out
}

// review builds a CREATE AdmissionRequest for d and returns the handler's response, nil for a
// document no mutating webhook handles.
func review(t *testing.T, d manifest.Document, raw []byte) *cradmission.Response {
	t.Helper()
	var handler cradmission.Handler
	var resource metav1.GroupVersionResource
	var kind metav1.GroupVersionKind
	switch {
	case d.APIVersion == "apps/v1" && d.Kind == "DaemonSet":
		handler = &admission.DaemonSetInjector{Config: inject.Config{Version: goldenVersion}}
		resource = metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}
		kind = metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}
	case d.APIVersion == "v1" && d.Kind == "ConfigMap":
		handler = admission.ConfigMapFiller{}
		resource = metav1.GroupVersionResource{Version: "v1", Resource: "configmaps"}
		kind = metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	default:
		return nil
	}
	var meta metav1.PartialObjectMetadata
	require.NoError(t, json.Unmarshal(raw, &meta))
	resp := handler.Handle(context.Background(), cradmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: types.UID("golden-" + meta.Name), Kind: kind, Operation: admissionv1.Create, Resource: resource,
		Namespace: meta.Namespace, Name: meta.Name, Object: runtime.RawExtension{Raw: raw},
	}})
	require.True(t, resp.Allowed, "document %d denied: %v", d.Index, resp.Result)
	return &resp
}
