package inject_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/metrics-proxy/injector/webhook/inject"
)

// benchConfig is the injector configuration of the benchmarks.
var benchConfig = inject.Config{Version: "bench"}

// benchStub is the smallest DaemonSet stub: a name, a namespace and no containers.
const benchStub = `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"proxy","namespace":"monitoring"},` +
	`"spec":{"template":{"spec":{"containers":[]}}}}`

// withEnv returns a complete DaemonSet whose own container carries n env vars: the input of the
// scaling benchmarks. Injection adds one container next to it; the work must grow linearly in n.
func withEnv(n int) []byte {
	env := make([]map[string]string, n)
	for i := range env {
		env[i] = map[string]string{"name": fmt.Sprintf("VAR_%04d", i), "value": fmt.Sprintf("value-%d", i)}
	}
	ds := map[string]any{
		"apiVersion": "apps/v1", "kind": "DaemonSet",
		"metadata": map[string]any{"name": "agent", "namespace": "monitoring"},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]string{"app": "agent"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]string{"app": "agent"}},
				"spec": map[string]any{"containers": []any{map[string]any{
					"name": "agent", "image": "registry.k8s.io/pause:3.10", "env": env}}},
			},
		},
	}
	raw, err := json.Marshal(ds)
	if err != nil {
		panic(err)
	}
	return raw
}

// benchInputs are the DaemonSets the injection benchmarks feed DaemonSetJSON, by name.
func benchInputs(b *testing.B) []struct {
	name string
	raw  []byte
} {
	injected, err := inject.DaemonSetJSON([]byte(benchStub), benchConfig)
	if err != nil {
		b.Fatal(err)
	}
	return []struct {
		name string
		raw  []byte
	}{
		{"stub", []byte(benchStub)},
		{"injected", injected},
		{"env-10", withEnv(10)},
		{"env-100", withEnv(100)},
		{"env-1000", withEnv(1000)},
	}
}

// BenchmarkDaemonSetJSON measures the pure injection path the webhook and the CLI share: a stub,
// an injected DaemonSet (no change), and DaemonSets with 10, 100 and 1000 env vars (linear scaling).
func BenchmarkDaemonSetJSON(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.raw)))
			b.ReportAllocs()
			for b.Loop() {
				out, err := inject.DaemonSetJSON(in.raw, benchConfig)
				if err != nil {
					b.Fatal(err)
				}
				if in.name == "injected" && !bytes.Equal(out, in.raw) {
					b.Fatal("injecting an injected DaemonSet changed it")
				}
			}
		})
	}
}
