package policy_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// BenchmarkCheckDaemonSetJSON is the cost the early size check adds to every DaemonSet review,
// against decoding the same JSON into a DaemonSet (what the handlers do next) as the baseline:
// an injected proxy, and the 5,000-container DaemonSet the check refuses.
func BenchmarkCheckDaemonSetJSON(b *testing.B) {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
	if err := inject.DaemonSet(ds, inject.Config{Version: "bench"}); err != nil {
		b.Fatal(err)
	}
	injected, err := json.Marshal(ds)
	if err != nil {
		b.Fatal(err)
	}
	cs := make([]string, 5000)
	for i := range cs {
		cs[i] = `{"name":"c` + strconv.Itoa(i) + `","image":"busybox"}`
	}
	huge := []byte(`{"spec":{"template":{"spec":{"containers":[` + strings.Join(cs, ",") + `]}}}}`)
	for _, in := range []struct {
		name string
		raw  []byte
	}{{"injected", injected}, {"5000-containers", huge}} {
		b.Run(in.name+"/check", func(b *testing.B) {
			b.SetBytes(int64(len(in.raw)))
			b.ReportAllocs()
			for b.Loop() {
				_ = policy.CheckDaemonSetJSON(in.raw)
			}
		})
		b.Run(in.name+"/decode-baseline", func(b *testing.B) {
			b.SetBytes(int64(len(in.raw)))
			b.ReportAllocs()
			for b.Loop() {
				var ds appsv1.DaemonSet
				_ = json.Unmarshal(in.raw, &ds)
			}
		})
	}
}
