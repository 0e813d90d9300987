package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidateRetaggedInjectorImage: validate injects the rendered proxies as serve would, with
// --proxy-cert-image (serve's $METRICS_PROXY_IMAGE) in the proxy-cert init container, and the
// default policy admits that image beside its metrics-proxy:* pattern: a re-tagged install
// admits what it injects. A policy that lists its containers itself decides alone.
func TestValidateRetaggedInjectorImage(t *testing.T) {
	const image = "registry.example/team/metrics-proxy:v1.2.3"
	dir := t.TempDir()
	file := filepath.Join(dir, "rendered.yaml")
	require.NoError(t, os.WriteFile(file, runCLI(t, "render", "--namespace", "monitoring", "--scraper", "monitoring/prometheus"), 0o644))
	listed := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(listed, []byte("apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\n"+
		"allowedContainers: [{name: proxy-cert, image: \"registry.example/other/metrics-proxy:*\"}]\n"), 0o644))

	validate := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), goldenVersion, append([]string{"validate"}, append(args, file)...), strings.NewReader(""), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	code, out := validate("--proxy-cert-image", image)
	assert.Equal(t, exitOK, code, out)
	code, out = validate("--proxy-cert-image", image, "--policy", listed)
	assert.Equal(t, exitRejected, code, out)
	assert.Contains(t, out, "other-container")
	assert.Contains(t, out, image)
}
