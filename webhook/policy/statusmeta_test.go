package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestStatusMetadataChanges: through the status subresource, no label or annotation of ours may
// be added, changed or removed (the audit's annotation aside); everything else may.
func TestStatusMetadataChanges(t *testing.T) {
	meta := func(labels, annotations map[string]string) *metav1.ObjectMeta {
		return &metav1.ObjectMeta{Name: "proxy", Labels: labels, Annotations: annotations}
	}
	injected := meta(map[string]string{names.InjectLabel: "true", "app": "p"},
		map[string]string{names.StatusAnnotation: `{"version":"v1","hash":"00"}`, "team": "a"})
	tests := []struct {
		name string
		old  *metav1.ObjectMeta
		ds   *metav1.ObjectMeta
		want []string // "field key change"
	}{
		{"nothing changes (a controller's status write)", injected, injected, nil},
		{"another label and annotation change", injected, meta(map[string]string{names.InjectLabel: "true", "app": "q"},
			map[string]string{names.StatusAnnotation: `{"version":"v1","hash":"00"}`}), nil},
		{"the audit annotation is written", injected, meta(injected.Labels,
			map[string]string{names.StatusAnnotation: `{"version":"v1","hash":"00"}`, "team": "a", names.AuditAnnotation: `{"findings":[]}`}), nil},
		{"the inject label is set back to true", meta(map[string]string{names.InjectLabel: "false"}, nil),
			meta(map[string]string{names.InjectLabel: "true"}, nil), []string{"label " + names.InjectLabel + " is changed"}},
		{"the opt-out label is removed", meta(map[string]string{names.InjectLabel: "false"}, nil),
			meta(nil, nil), []string{"label " + names.InjectLabel + " is removed"}},
		{"a status annotation is added, an unknown label of ours too", meta(nil, nil),
			meta(map[string]string{"metrics-proxy.io/x": ""}, map[string]string{names.StatusAnnotation: "{}"}),
			[]string{"label metrics-proxy.io/x is added", "annotation " + names.StatusAnnotation + " is added"}},
		{"the config map and image annotations change", meta(nil, map[string]string{names.ConfigMapAnnotation: "a"}),
			meta(nil, map[string]string{names.ConfigMapAnnotation: "b", names.ImageAnnotation: "x"}),
			[]string{"annotation " + names.ConfigMapAnnotation + " is changed", "annotation " + names.ImageAnnotation + " is added"}},
		{"a label of ours that is not the audit's, named like it", meta(nil, nil), meta(map[string]string{names.AuditAnnotation: "x"}, nil),
			[]string{"label " + names.AuditAnnotation + " is added"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := policy.StatusMetadataChanges(tt.old, tt.ds)
			assert.Len(t, vs, len(tt.want), "%v", vs)
			for i, v := range vs {
				if i >= len(tt.want) {
					break
				}
				assert.Equal(t, policy.RuleStatusMetadata, v.Rule)
				assert.Contains(t, v.Message, "the "+tt.want[i]+" through the status subresource")
				assert.Contains(t, v.Message, "through the DaemonSet itself")
			}
		})
	}
}

// TestStatusMetadataChangesManyKeys: a status write with tens of thousands of keys of ours costs
// linear time (this test would take minutes with a quadratic comparison).
func TestStatusMetadataChangesManyKeys(t *testing.T) {
	old, now := map[string]string{}, map[string]string{}
	for i := range 50000 {
		k := names.Prefix + "k" + string(rune('a'+i%26)) + itoaPad(i)
		old[k] = "a"
		now[k] = "b"
	}
	vs := policy.StatusMetadataChanges(&metav1.ObjectMeta{Labels: old}, &metav1.ObjectMeta{Labels: now})
	assert.Len(t, vs, 50000)
}

func itoaPad(i int) string {
	b := []byte("000000")
	for j := len(b) - 1; j >= 0 && i > 0; j-- {
		b[j] = byte('0' + i%10)
		i /= 10
	}
	return string(b)
}
