package admission

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	jsonpatch2 "gomodules.xyz/jsonpatch/v2"
	appsv1 "k8s.io/api/apps/v1"
	kjson "sigs.k8s.io/json"

	"github.com/metrics-proxy/injector/webhook/inject"
)

// applyDiff diffs the JSON documents a and b with diffJSON, applies the patch to a with a real
// JSON patch implementation and returns the result and the operations.
func applyDiff(t testing.TB, a, b string) (string, []byte) {
	var at, bt any
	require.NoError(t, kjson.UnmarshalCaseSensitivePreserveInts([]byte(a), &at))
	require.NoError(t, kjson.UnmarshalCaseSensitivePreserveInts([]byte(b), &bt))
	ops, err := json.Marshal(diffJSON(at, bt, "", nil))
	require.NoError(t, err)
	patch, err := jsonpatch.DecodePatch(ops)
	require.NoError(t, err, "%s", ops)
	out, err := patch.Apply([]byte(a))
	require.NoError(t, err, "%s", ops)
	return string(out), ops
}

// diffCases are pairs of JSON documents to diff.
var diffCases = []struct{ name, a, b string }{
	{"equal", `{"a":1,"b":[1,2],"c":{"d":null}}`, `{"a":1,"b":[1,2],"c":{"d":null}}`},
	{"added, removed, replaced", `{"a":1,"b":"x","c":true}`, `{"a":2,"d":{"e":[]},"c":false}`},
	{"nested", `{"s":{"t":{"u":[{"n":"a","v":1}]}}}`, `{"s":{"t":{"u":[{"n":"a","v":2,"w":"x"}]}}}`},
	{"array grows", `{"a":[1,2]}`, `{"a":[1,2,3,{"x":4}]}`},
	{"array shrinks", `{"a":[1,2,3,4]}`, `{"a":[9]}`},
	{"array emptied", `{"a":[1,2,3]}`, `{"a":[]}`},
	{"type changes", `{"a":[1],"b":{"c":1},"c":"1","d":null,"e":1}`, `{"a":{"0":1},"b":[1],"c":1,"d":"x","e":1.5}`},
	{"int against float", `{"a":1}`, `{"a":1.5}`},
	{"keys to escape", `{"a/b":1,"c~d":{"e/f~g":2}}`, `{"a/b":2,"c~d":{"e/f~g":3,"~":4,"/":5}}`},
	{"large integers", `{"a":9007199254740993}`, `{"a":9007199254740995}`},
}

// TestDiffJSON: the patch diffJSON computes turns the first document into the second.
func TestDiffJSON(t *testing.T) {
	for _, tt := range diffCases {
		t.Run(tt.name, func(t *testing.T) {
			out, ops := applyDiff(t, tt.a, tt.b)
			assert.JSONEq(t, tt.b, out, "patch %s", ops)
			if tt.a == tt.b {
				assert.Equal(t, "null", string(ops), "no operation for equal documents")
			}
		})
	}
}

// canonical is the JSON document a as encoding/json writes its decode: compact, keys sorted.
func canonical(t testing.TB, a string) []byte {
	var v any
	require.NoError(t, kjson.UnmarshalCaseSensitivePreserveInts([]byte(a), &v))
	out, err := json.Marshal(v)
	require.NoError(t, err)
	return out
}

// sameOps checks that diffEncoded on the canonical forms of a and b gives the operations
// diffJSON gives on their decodes (in any order), and that they turn a into b.
func sameOps(t testing.TB, a, b string) {
	ca, cb := canonical(t, a), canonical(t, b)
	var at, bt any
	require.NoError(t, kjson.UnmarshalCaseSensitivePreserveInts(ca, &at))
	require.NoError(t, kjson.UnmarshalCaseSensitivePreserveInts(cb, &bt))
	encoded, err := diffEncoded(ca, cb, "", nil)
	require.NoError(t, err)
	decoded := diffJSON(at, bt, "", nil)
	opStrings := func(ops []jsonpatch2.JsonPatchOperation) []string {
		var out []string
		for _, op := range ops {
			data, err := json.Marshal(&op)
			require.NoError(t, err)
			out = append(out, string(data))
		}
		return out
	}
	assert.ElementsMatch(t, opStrings(decoded), opStrings(encoded))
	ops, err := json.Marshal(encoded)
	require.NoError(t, err)
	patch, err := jsonpatch.DecodePatch(ops)
	require.NoError(t, err, "%s", ops)
	out, err := patch.Apply(ca)
	require.NoError(t, err, "%s", ops)
	assert.JSONEq(t, string(cb), string(out), "patch %s", ops)
}

// TestDiffEncoded: on documents as encoding/json writes them, comparing bytes gives diffJSON's
// operations.
func TestDiffEncoded(t *testing.T) {
	for _, tt := range diffCases {
		t.Run(tt.name, func(t *testing.T) { sameOps(t, tt.a, tt.b) })
	}
}

// FuzzDiffEncoded: for any two JSON objects in encoding/json's form, diffEncoded is diffJSON.
func FuzzDiffEncoded(f *testing.F) {
	for _, tt := range diffCases {
		f.Add(tt.a, tt.b)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return
		}
		var at, bt map[string]any
		if kjson.UnmarshalCaseSensitivePreserveInts([]byte(a), &at) != nil || kjson.UnmarshalCaseSensitivePreserveInts([]byte(b), &bt) != nil ||
			at == nil || bt == nil {
			return
		}
		if hasEmptyKey(at) || hasEmptyKey(bt) {
			return // evanphx/json-patch cannot apply a path through an empty key; no object holds one
		}
		sameOps(t, a, b)
	})
}

// hasEmptyKey reports whether an object in the decoded JSON v has the key "".
func hasEmptyKey(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "" || hasEmptyKey(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasEmptyKey(e) {
				return true
			}
		}
	}
	return false
}

// TestPatchResponseMatchesInjection: for the handler's DaemonSets, the patch from the shared
// decode applied to the review's object gives exactly the injected DaemonSet.
func TestPatchResponseMatchesInjection(t *testing.T) {
	inputs := map[string]string{
		"stub":    `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"p","namespace":"m"},"spec":{"template":{"spec":{"containers":[]}}}}`,
		"unknown": `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"p","future":1},"spec":{"future":{"a":[1,2]},"template":{"spec":{"containers":[{"name":"haproxy","image":"x","future":true}],"tolerations":[]}}}}`,
		"workload": `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"p","annotations":{"metrics-proxy.io/components":"etcd"}},` +
			`"spec":{"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"a"}},"spec":{"containers":[{"name":"a","image":"x","env":[{"name":"A","value":"1"}]}]}}}}`,
	}
	for name, in := range maps.Clone(inputs) { // each also as the API server sends it: as the types write it
		var ds appsv1.DaemonSet
		require.NoError(t, kjson.UnmarshalCaseSensitivePreserveInts([]byte(in), &ds))
		typed, err := json.Marshal(&ds)
		require.NoError(t, err)
		inputs[name+"-as-the-types-write-it"] = string(typed)
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			cfg := inject.Config{Version: "test", ConfigHash: "0123456789abcdef"}
			res, err := inject.DaemonSetTree([]byte(in), func(*appsv1.DaemonSet) (inject.Config, error) { return cfg, nil })
			require.NoError(t, err)
			_, _, encoded := res.Encoded()
			assert.Equal(t, strings.HasSuffix(name, "-as-the-types-write-it"), encoded, "the patch compares bytes only where the types wrote them")
			want, err := inject.DaemonSetJSON([]byte(in), cfg)
			require.NoError(t, err)
			resp := patchResponse(&res)
			require.True(t, resp.Allowed)
			require.NotEmpty(t, resp.Patches)
			require.NotNil(t, resp.PatchType)
			ops, err := json.Marshal(resp.Patches)
			require.NoError(t, err)
			patch, err := jsonpatch.DecodePatch(ops)
			require.NoError(t, err)
			out, err := patch.Apply([]byte(in))
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(out))

			again, err := inject.DaemonSetTree(want, func(*appsv1.DaemonSet) (inject.Config, error) { return cfg, nil })
			require.NoError(t, err)
			resp = patchResponse(&again)
			assert.Empty(t, resp.Patches, "re-injection")
			assert.Nil(t, resp.PatchType)
		})
	}
}

// FuzzDiffJSON: for any two JSON objects, diffJSON's patch turns the first into the second.
func FuzzDiffJSON(f *testing.F) {
	f.Add(`{"a":1,"b":[1,2,{"c":3}]}`, `{"a":"1","b":[1,{"c":4}],"d":null}`)
	f.Add(`{"a/b":{"~":[]}}`, `{"a/b":{"~":[[1]]}}`)
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return // the API server sends UTF-8; a decoder replaces what is not
		}
		var at, bt map[string]any
		if json.Unmarshal([]byte(a), &at) != nil || json.Unmarshal([]byte(b), &bt) != nil || at == nil || bt == nil {
			return
		}
		if kjson.UnmarshalCaseSensitivePreserveInts([]byte(a), new(any)) != nil || kjson.UnmarshalCaseSensitivePreserveInts([]byte(b), new(any)) != nil {
			return
		}
		out, ops := applyDiff(t, a, b)
		var got, want any
		require.NoError(t, json.Unmarshal([]byte(out), &got))
		require.NoError(t, json.Unmarshal([]byte(b), &want))
		assert.Equal(t, want, got, "patch %s", ops)
	})
}
