package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

func TestInjectLabelRemoved(t *testing.T) {
	labelled := map[string]string{names.InjectLabel: "true"}
	injected := map[string]string{names.StatusAnnotation: `{"version":"v","hash":"h"}`}
	meta := func(labels, annotations map[string]string) *metav1.ObjectMeta {
		return &metav1.ObjectMeta{Name: "p", Labels: labels, Annotations: annotations}
	}
	for _, tc := range []struct {
		name    string
		old, ds *metav1.ObjectMeta
		refused bool
	}{
		{"a create", nil, meta(nil, injected), false},
		{"label kept", meta(labelled, injected), meta(labelled, injected), false},
		{"label removed from an injected proxy", meta(labelled, injected), meta(map[string]string{"app": "x"}, injected), true},
		{"opted out", meta(labelled, injected), meta(map[string]string{names.InjectLabel: "false"}, injected), false},
		{"set to another value, which no webhook selects", meta(labelled, injected), meta(map[string]string{names.InjectLabel: "yes"}, injected), true},
		{"set to another case of true", meta(labelled, injected), meta(map[string]string{names.InjectLabel: "True"}, injected), true},
		{"label removed, never injected", meta(labelled, nil), meta(nil, nil), false},
		{"label removed with the status annotation", meta(labelled, injected), meta(nil, nil), false},
		{"never labelled (an enabled namespace's proxy)", meta(nil, injected), meta(nil, injected), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := policy.InjectLabelRemoved(tc.old, tc.ds)
			if !tc.refused {
				assert.Nil(t, v)
				return
			}
			if assert.NotNil(t, v) {
				assert.Equal(t, policy.RuleInjectLabel, v.Rule)
				assert.Contains(t, v.Message, `set it to "false" to opt out`)
			}
		})
	}
}
