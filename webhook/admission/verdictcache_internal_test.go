package admission

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/metrics-proxy/injector/webhook/policy"
)

func TestVerdictCacheKeys(t *testing.T) {
	p1, p2 := policy.Default(), policy.Default()
	assert.NotSame(t, p1, p2)
	cm := func(name, uid, rv string) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(uid), ResourceVersion: rv}}
	}
	ask := func(c *VerdictCache, p *policy.Policy, m *corev1.ConfigMap) bool {
		return c.compliant(p, types.NamespacedName{Namespace: m.Namespace, Name: m.Name},
			configIdentity{uid: m.UID, resourceVersion: m.ResourceVersion})
	}
	tests := []struct {
		name     string
		size     int
		remember []*corev1.ConfigMap
		under    *policy.Policy // the policy of the question; the verdicts were found under p1
		ask      *corev1.ConfigMap
		want     bool
	}{
		{"the version found compliant", 10, []*corev1.ConfigMap{cm("a", "u1", "5")}, p1, cm("a", "u1", "5"), true},
		{"another resourceVersion", 10, []*corev1.ConfigMap{cm("a", "u1", "5")}, p1, cm("a", "u1", "6"), false},
		{"recreated: another uid", 10, []*corev1.ConfigMap{cm("a", "u1", "5")}, p1, cm("a", "u2", "5"), false},
		{"another ConfigMap", 10, []*corev1.ConfigMap{cm("a", "u1", "5")}, p1, cm("b", "u1", "5"), false},
		{"another policy, even an equal one", 10, []*corev1.ConfigMap{cm("a", "u1", "5")}, p2, cm("a", "u1", "5"), false},
		{"a newer version replaces the older", 10, []*corev1.ConfigMap{cm("a", "u1", "5"), cm("a", "u1", "6")}, p1, cm("a", "u1", "5"), false},
		{"no identity", 10, []*corev1.ConfigMap{cm("a", "", "")}, p1, cm("a", "", ""), false},
		{"full: forgets all", 2, []*corev1.ConfigMap{cm("a", "u1", "5"), cm("b", "u2", "5"), cm("c", "u3", "5")}, p1, cm("a", "u1", "5"), false},
		{"full: keeps the newest", 2, []*corev1.ConfigMap{cm("a", "u1", "5"), cm("b", "u2", "5"), cm("c", "u3", "5")}, p1, cm("c", "u3", "5"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewVerdictCache(tt.size)
			for _, m := range tt.remember {
				c.remember(p1, m)
			}
			assert.Equal(t, tt.want, ask(c, tt.under, tt.ask))
		})
	}

	t.Run("a verdict under another policy forgets the earlier ones", func(t *testing.T) {
		c := NewVerdictCache(10)
		c.remember(p1, cm("a", "u1", "5"))
		c.remember(p2, cm("b", "u2", "5"))
		assert.False(t, ask(c, p1, cm("a", "u1", "5")))
		assert.False(t, ask(c, p2, cm("a", "u1", "5")))
		assert.True(t, ask(c, p2, cm("b", "u2", "5")))
	})
	t.Run("nil remembers nothing", func(t *testing.T) {
		var c *VerdictCache
		c.remember(p1, cm("a", "u1", "5"))
		assert.False(t, ask(c, p1, cm("a", "u1", "5")))
	})
}
