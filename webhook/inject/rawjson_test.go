package inject

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	jsonpatch "gomodules.xyz/jsonpatch/v2"

	"github.com/metrics-proxy/injector/webhook/names"
)

// A stub written against a newer API: fields our k8s.io/api types do not know, at several depths.
const futureStub = `{
  "apiVersion": "apps/v1", "kind": "DaemonSet",
  "metadata": {"name": "metrics-proxy", "namespace": "monitoring", "futureMeta": "keep-1"},
  "spec": {
    "futureSpec": {"a": [1, 2]},
    "template": {"spec": {
      "futurePodField": "keep-2",
      "containers": [{"name": "sidecar", "image": "busybox:1", "futureContainerField": {"x": true}}],
      "tolerations": []
    }}
  }
}`

func TestDaemonSetJSONKeepsUnknownFields(t *testing.T) {
	out, err := DaemonSetJSON([]byte(futureStub), testConfig)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(out, &got))
	meta := got["metadata"].(map[string]any)
	assert.Equal(t, "keep-1", meta["futureMeta"])
	spec := got["spec"].(map[string]any)
	assert.Equal(t, map[string]any{"a": []any{1.0, 2.0}}, spec["futureSpec"])
	pod := spec["template"].(map[string]any)["spec"].(map[string]any)
	assert.Equal(t, "keep-2", pod["futurePodField"])
	cs := pod["containers"].([]any)
	require.Len(t, cs, 2)
	assert.Equal(t, map[string]any{"x": true}, cs[0].(map[string]any)["futureContainerField"])
	assert.Equal(t, names.ContainerName, cs[1].(map[string]any)["name"])
	assert.Len(t, pod["tolerations"], 1, "an empty list the types drop is still filled")
	assert.NotContains(t, got, "status", "normalisation of the round trip is not added")

	patch, err := jsonpatch.CreatePatch([]byte(futureStub), out)
	require.NoError(t, err)
	for _, op := range patch {
		assert.NotEqual(t, "remove", op.Operation, "patch removes %s", op.Path)
	}
}

func TestDaemonSetJSONNoPatchWhenInjected(t *testing.T) {
	once, err := DaemonSetJSON([]byte(futureStub), testConfig)
	require.NoError(t, err)
	twice, err := DaemonSetJSON(once, testConfig)
	require.NoError(t, err)
	patch, err := jsonpatch.CreatePatch(once, twice)
	require.NoError(t, err)
	assert.Empty(t, patch)
}

func TestDaemonSetJSONOptedOutUntouched(t *testing.T) {
	in := `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"x","labels":{"metrics-proxy.io/inject":"false"}},"spec":{}}`
	out, err := DaemonSetJSON([]byte(in), testConfig)
	require.NoError(t, err)
	assert.JSONEq(t, in, string(out))
}

func TestMutateErrors(t *testing.T) {
	_, err := DaemonSetJSON([]byte(`{"metadata": [}`), testConfig)
	require.ErrorIs(t, err, ErrDecode)
	_, err = DaemonSetJSON([]byte(`{"metadata": {"name": 3}}`), testConfig)
	require.ErrorIs(t, err, ErrDecode)
	_, err = DaemonSetJSON([]byte(`{"metadata":{"annotations":{"metrics-proxy.io/components":"kubelet"}}}`), testConfig)
	require.ErrorIs(t, err, ErrInvalidAnnotation)
}

func TestPreserve(t *testing.T) {
	tests := []struct {
		name           string
		raw, base, mut string
		want           string
	}{
		{name: "unknown kept", raw: `{"a":1,"u":2}`, base: `{"a":1}`, mut: `{"a":3}`, want: `{"a":3,"u":2}`},
		{name: "known removed", raw: `{"a":1,"b":2}`, base: `{"a":1,"b":2}`, mut: `{"a":1}`, want: `{"a":1}`},
		{name: "normalisation not added", raw: `{"a":1}`, base: `{"a":1,"n":null}`, mut: `{"a":2,"n":null}`, want: `{"a":2}`},
		{name: "nested normalisation", raw: `{}`, base: `{"m":{"n":null}}`, mut: `{"m":{"n":null,"l":1}}`, want: `{"m":{"l":1}}`},
		{name: "list append keeps unknown in items", raw: `{"l":[{"a":1,"u":1}]}`, base: `{"l":[{"a":1}]}`, mut: `{"l":[{"a":1},{"a":2}]}`, want: `{"l":[{"a":1,"u":1},{"a":2}]}`},
		{name: "list shrink takes mutation", raw: `{"l":[1,2]}`, base: `{"l":[1,2]}`, mut: `{"l":[1]}`, want: `{"l":[1]}`},
		{name: "type change takes mutation", raw: `{"a":"x"}`, base: `{"a":{}}`, mut: `{"a":{"b":1}}`, want: `{"a":{"b":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r, b, m any
			require.NoError(t, json.Unmarshal([]byte(tt.raw), &r))
			require.NoError(t, json.Unmarshal([]byte(tt.base), &b))
			require.NoError(t, json.Unmarshal([]byte(tt.mut), &m))
			got, err := json.Marshal(preserve(r, b, m))
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(got))
		})
	}
}

// TestOwnedContainerIsExactlyInjected: a field our types do not know on the haproxy container
// does not survive injection (the validator could not see it); one on another container does;
// the user's resources on haproxy are kept; re-injection of the result changes nothing.
func TestOwnedContainerIsExactlyInjected(t *testing.T) {
	in := `{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "p"},
	  "spec": {"template": {"spec": {"containers": [
	    {"name": "haproxy", "image": "evil:1", "futureField": {"command": ["haproxy", "-f", "/other.cfg"]},
	     "resources": {"limits": {"memory": "99Mi"}}},
	    {"name": "sidecar", "image": "busybox:1", "futureField": "kept"}]}}}}`
	out, err := DaemonSetJSON([]byte(in), testConfig)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(out, &got))
	cs := dig(got, "spec", "template", "spec", "containers").([]any)
	require.Len(t, cs, 2)
	haproxy, sidecar := cs[0].(map[string]any), cs[1].(map[string]any)
	require.Equal(t, names.ContainerName, haproxy["name"])
	assert.NotContains(t, haproxy, "futureField", "an unknown field on the owned container is dropped")
	assert.Equal(t, "evil:1", haproxy["image"], "the user's image is kept, through the annotation")
	assert.Equal(t, "evil:1", dig(got, "metadata", "annotations", names.ImageAnnotation))
	assert.Equal(t, "99Mi", dig(haproxy, "resources", "limits", "memory"), "the user's resources are kept")
	assert.Equal(t, "kept", sidecar["futureField"], "other containers keep what the types do not know")

	again, err := DaemonSetJSON(out, testConfig)
	require.NoError(t, err)
	assert.Equal(t, string(out), string(again), "re-injection changes nothing")

	// The container's name spelt with a JSON escape is the same container: its unknown field goes too.
	escaped := strings.NewReplacer(`"name": "haproxy"`, `"name": "h\u0061proxy"`, `"haproxy", `, `"/bin/sh", `).Replace(in)
	require.NotContains(t, escaped, names.ContainerName)
	out2, err := DaemonSetJSON([]byte(escaped), testConfig)
	require.NoError(t, err)
	assert.NotContains(t, string(out2), "/other.cfg", "an unknown field on the escaped haproxy container is dropped")
	assert.Contains(t, string(out2), `"futureField":"kept"`)

	// An injected DaemonSet that gains an unknown field on haproxy later (an UPDATE) loses it again.
	var tampered map[string]any
	require.NoError(t, json.Unmarshal(out, &tampered))
	dig(tampered, "spec", "template", "spec", "containers").([]any)[0].(map[string]any)["futureField"] = "x"
	raw, err := json.Marshal(tampered)
	require.NoError(t, err)
	fixed, err := DaemonSetJSON(raw, testConfig)
	require.NoError(t, err)
	assert.JSONEq(t, string(out), string(fixed))
}
