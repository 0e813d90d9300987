package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestInjectorImageAllowed: the proxy-cert init container of exactly the injector's own image is
// allowed while allowedContainers is the default, so that a re-tagged install admits what it
// injects; no other image, no other name, and not when the admin lists the containers.
func TestInjectorImageAllowed(t *testing.T) {
	const own = "registry.example/team/metrics-proxy:v1.2.3"
	listed := policy.Default()
	listed.AllowedContainers = []policy.AllowedContainer{{Name: "reloader", Image: "registry.example/reloader:*"}}
	tests := []struct {
		name        string
		p           *policy.Policy
		cname, img  string
		wantAllowed bool
	}{
		{"default pattern", policy.Default(), names.ProxyCertContainer, "metrics-proxy:v9", true},
		{"re-tagged, injector image unknown", policy.Default(), names.ProxyCertContainer, own, false},
		{"re-tagged, the injector's image", policy.Default().WithInjectorImage(own), names.ProxyCertContainer, own, true},
		{"another tag of it", policy.Default().WithInjectorImage(own), names.ProxyCertContainer, "registry.example/team/metrics-proxy:v1.2.4", false},
		{"another container name", policy.Default().WithInjectorImage(own), "sidecar", own, false},
		{"the admin's list decides", listed.WithInjectorImage(own), names.ProxyCertContainer, own, false},
		{"nil policy", (*policy.Policy)(nil).WithInjectorImage(own), names.ProxyCertContainer, own, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.wantAllowed, tt.p.ContainerAllowed(tt.cname, tt.img))
		})
	}
	assert.Empty(t, policy.Default().InjectorImage, "WithInjectorImage copies")
}
