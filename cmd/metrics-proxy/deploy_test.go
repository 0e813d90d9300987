package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/webhook/manifest"
)

// TestDeploymentArgsParse: the Deployment in deploy/base runs `serve` with flags this binary
// has, and every overlay's --cert-mode value is one serve accepts.
func TestDeploymentArgsParse(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "deploy", "base", "deployment.yaml"))
	require.NoError(t, err)
	defer f.Close()
	docs, err := manifest.Read(f)
	require.NoError(t, err)
	var args []string
	for _, d := range docs {
		if d.Kind != "Deployment" {
			continue
		}
		var dep appsv1.Deployment
		require.NoError(t, yaml.UnmarshalStrict(d.YAML, &dep))
		require.NotEmpty(t, dep.Spec.Template.Spec.Containers)
		args = dep.Spec.Template.Spec.Containers[0].Args
	}
	require.NotEmpty(t, args, "no Deployment args in deploy/base/deployment.yaml")
	require.Equal(t, "serve", args[0])
	serve := newServeCommand("test")
	require.NoError(t, serve.ParseFlags(args[1:]), "serve rejects the Deployment's flags")
	mode, err := serve.Flags().GetString("cert-mode")
	require.NoError(t, err)
	_, err = certs.ParseMode(mode)
	assert.NoError(t, err)

	overlays, err := filepath.Glob(filepath.Join("..", "..", "deploy", "overlays", "*", "cert-mode.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, overlays)
	for _, o := range overlays {
		data, err := os.ReadFile(o)
		require.NoError(t, err)
		var ops []struct {
			Op    string `json:"op"`
			Value string `json:"value"`
		}
		require.NoError(t, yaml.Unmarshal(data, &ops), o)
		for _, op := range ops {
			if op.Op != "replace" {
				continue
			}
			serve := newServeCommand("test")
			require.NoError(t, serve.ParseFlags([]string{op.Value}), o)
			mode, _ := serve.Flags().GetString("cert-mode")
			_, err := certs.ParseMode(mode)
			assert.NoError(t, err, "%s sets --cert-mode=%s", o, mode)
		}
	}
}
