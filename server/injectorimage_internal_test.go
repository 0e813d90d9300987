package server

import (
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/metrics-proxy/injector/webhook/policy"
)

// swappable is a policy source whose policy a test replaces, as a reloaded policy file does.
type swappable struct{ p atomic.Pointer[policy.Policy] }

func (s *swappable) Policy() *policy.Policy { return s.p.Load() }

// TestInjectorImagePolicyStable: the policy with the injector's image is one pointer per policy
// of the source (the verdict cache keeps its verdicts while it stays the same), a new one when
// the source's changes, and carries the image.
func TestInjectorImagePolicyStable(t *testing.T) {
	src := &swappable{}
	first := policy.Default()
	src.p.Store(first)
	p := &injectorImagePolicy{PolicySource: src, image: "example.org/metrics-proxy:v1"}

	a, b := p.Policy(), p.Policy()
	assert.Same(t, a, b, "the same source policy: the same pointer")
	assert.Equal(t, "example.org/metrics-proxy:v1", a.InjectorImage)
	assert.Empty(t, first.InjectorImage, "the source's policy is not modified")

	src.p.Store(policy.Default())
	c := p.Policy()
	assert.NotSame(t, a, c, "a reloaded policy: another pointer")
	assert.Equal(t, "example.org/metrics-proxy:v1", c.InjectorImage)
	assert.Same(t, c, p.Policy())

	none := &injectorImagePolicy{PolicySource: src}
	assert.Same(t, src.Policy(), none.Policy(), "no image: the source's own policy")
}
