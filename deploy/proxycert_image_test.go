package deploy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// proxyCertImage is the value serve reads for its --proxy-cert-image default: the image of the
// proxy-cert init container it injects into proxies.
func proxyCertImage(t *testing.T, c *corev1.Container) string {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == "METRICS_PROXY_IMAGE" {
			require.Nil(t, e.ValueFrom, "METRICS_PROXY_IMAGE is a plain value")
			return e.Value
		}
	}
	t.Fatalf("the webhook container sets no METRICS_PROXY_IMAGE: serve would inject metrics-proxy:latest")
	return ""
}

// TestProxyCertImageFollowsTheImage: the webhook container tells serve which image the injected
// proxy-cert init container runs, and that is always the container's own image: kustomize's
// images: (in the base or in a user's overlay on top of an overlay) and the chart's image value
// carry through to METRICS_PROXY_IMAGE, so a re-tagged install never injects metrics-proxy:latest.
func TestProxyCertImageFollowsTheImage(t *testing.T) {
	cases := []struct {
		name, want string
		build      func(t *testing.T) *built
	}{
		{"kustomize base", image, func(t *testing.T) *built { return kustomize(t, "base") }},
		{"kustomize self-signed", image, func(t *testing.T) *built { return kustomize(t, "overlays/self-signed") }},
		{"kustomize cert-manager", image, func(t *testing.T) *built { return kustomize(t, "overlays/cert-manager") }},
		{"a user's overlay re-tags the image", "registry.example/team/metrics-proxy:v1.2.3",
			func(t *testing.T) *built { return kustomize(t, "testdata/retagged") }},
		{"chart defaults", image, func(t *testing.T) *built { return mustRender(t, Namespace, "") }},
		{"chart image value", "registry.example:5000/metrics-proxy:v1.2.3", func(t *testing.T) *built {
			return mustRender(t, Namespace, "image: {repository: registry.example:5000/metrics-proxy, tag: v1.2.3}")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, c := deployment(t, tc.build(t))
			assert.Equal(t, tc.want, c.Image)
			assert.Equal(t, c.Image, proxyCertImage(t, c), "the init container's image is the server's own")
		})
	}
}
