package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// chartDir is the Helm chart, beside the kustomizations it must render the same objects as.
const chartDir = "helm/metrics-proxy"

// releaseName is the release the tests install or render.
const releaseName = "metrics-proxy"

// minKubeVersion is the oldest Kubernetes the chart supports (Chart.yaml kubeVersion: match
// conditions are GA from 1.30); rendering and linting happen for it.
const minKubeVersion = "v1.30.0"

// helmRender is `helm template` through Helm's Go SDK: the chart rendered for the release
// namespace with values (YAML, "" for the defaults), checked against values.schema.json. It
// returns the objects and the NOTES, or the error Helm gives.
func helmRender(t *testing.T, namespace, values string) (*built, string, error) {
	t.Helper()
	inst := action.NewInstall(&action.Configuration{Log: t.Logf})
	inst.ClientOnly, inst.DryRun, inst.Replace = true, true, true
	inst.ReleaseName, inst.Namespace = releaseName, namespace
	kv, err := chartutil.ParseKubeVersion(minKubeVersion)
	require.NoError(t, err)
	inst.KubeVersion = kv
	rel, err := inst.Run(loadChart(t), parseValues(t, values))
	if err != nil {
		return nil, "", err
	}
	return parseManifests(t, rel.Manifest), rel.Info.Notes, nil
}

// mustRender is helmRender that fails the test on an error.
func mustRender(t *testing.T, namespace, values string) *built {
	t.Helper()
	b, _, err := helmRender(t, namespace, values)
	require.NoError(t, err, "helm template with %q", values)
	return b
}

// loadChart loads the chart from its directory, as `helm install ./deploy/helm/metrics-proxy`.
func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	require.NoError(t, err, "load the chart")
	return c
}

// parseValues turns YAML values into the map Helm takes.
func parseValues(t *testing.T, values string) map[string]any {
	t.Helper()
	vals := map[string]any{}
	require.NoError(t, yaml.Unmarshal([]byte(values), &vals), "values %q", values)
	return vals
}

// parseManifests splits a rendered YAML stream into objects, numbers as int64 like kustomize's.
func parseManifests(t *testing.T, manifest string) *built {
	t.Helper()
	b := &built{yaml: []byte(manifest)}
	dec := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	for {
		doc, err := dec.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		data, err := yaml.YAMLToJSON(doc)
		require.NoError(t, err, "rendered YAML:\n%s", doc)
		o := &unstructured.Unstructured{}
		require.NoError(t, o.UnmarshalJSON(data), "rendered object:\n%s", doc)
		b.objects = append(b.objects, o)
	}
	return b
}

// stripComments drops comment lines, to tell an empty document from an object.
func stripComments(doc []byte) []byte {
	var out [][]byte
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			out = append(out, l)
		}
	}
	return bytes.Join(out, []byte("\n"))
}
