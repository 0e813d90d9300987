package inject

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// TestStatusMatches: only the injector's own record of what it injected, for the spec as it
// stands, counts; a hand-written status annotation or a spec edited since does not.
func TestStatusMatches(t *testing.T) {
	injected := stub()
	require.NoError(t, DaemonSet(injected, Config{Version: "v1"}))
	require.Contains(t, injected.Annotations, names.StatusAnnotation)
	with := func(edit func(ds *appsv1.DaemonSet)) *appsv1.DaemonSet {
		ds := injected.DeepCopy()
		edit(ds)
		return ds
	}
	tests := []struct {
		name string
		ds   *appsv1.DaemonSet
		want bool
	}{
		{"as injected", injected, true},
		{"another version named, same hash", with(func(ds *appsv1.DaemonSet) {
			ds.Annotations[names.StatusAnnotation] = `{"version":"v0","hash":"` + hashIn(t, injected) + `"}`
		}), true},
		{"no annotation", stub(), false},
		{"empty JSON", with(func(ds *appsv1.DaemonSet) { ds.Annotations[names.StatusAnnotation] = "{}" }), false},
		{"not JSON", with(func(ds *appsv1.DaemonSet) { ds.Annotations[names.StatusAnnotation] = "injected" }), false},
		{"a made-up hash", with(func(ds *appsv1.DaemonSet) {
			ds.Annotations[names.StatusAnnotation] = `{"version":"v1","hash":"0123456789abcdef"}`
		}), false},
		{"haproxy container edited since", with(func(ds *appsv1.DaemonSet) {
			ds.Spec.Template.Spec.Containers[0].Image = "registry.example.com/anything:latest"
		}), false},
		{"off the host network since", with(func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.HostNetwork = false }), false},
		{"the annotation copied onto a stub", with(func(ds *appsv1.DaemonSet) {
			ds.Spec = stub().Spec
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, StatusMatches(tt.ds))
		})
	}
}

func hashIn(t *testing.T, ds *appsv1.DaemonSet) string {
	t.Helper()
	st := hashOfStatus(ds.Annotations[names.StatusAnnotation])
	require.NotEmpty(t, st)
	return st
}

func hashOfStatus(raw string) string {
	var st Status
	if json.Unmarshal([]byte(raw), &st) != nil {
		return ""
	}
	return st.Hash
}
