package bench_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/metrics-proxy/injector/e2e/bench"
)

// TestCPUKind: a sample counts for the first frame from the leaf up that is not the runtime's,
// and for a request when the webhook server's connection handler is on its stack.
func TestCPUKind(t *testing.T) {
	const serve = "net/http.(*conn).serve"
	tests := []struct {
		name      string
		frames    []string
		kind      string
		inRequest bool
	}{
		{"allocation counts for the JSON decode that allocated",
			[]string{"runtime.mallocgc", "runtime.newobject", "sigs.k8s.io/json/internal/golang/encoding/json.(*decodeState).object",
				"github.com/metrics-proxy/injector/webhook/inject.decodeTree", serve},
			"JSON: encoding and decoding (reviews, objects, patches)", true},
		{"the patch diff", []string{"runtime.mapaccess1_faststr", "github.com/metrics-proxy/injector/webhook/admission.diffJSON", serve},
			"JSON patch: computing it (diff of the trees)", true},
		{"the write system call under TLS", []string{"internal/runtime/syscall/linux.Syscall6", "syscall.write",
			"crypto/tls.(*Conn).Write", serve}, "socket and file I/O (system calls)", true},
		{"encryption", []string{"crypto/internal/fips140/aes/gcm.seal", "crypto/tls.(*Conn).Write", serve}, "TLS: encryption and records", true},
		{"a watch's decode, outside requests", []string{"encoding/json.checkValid", "k8s.io/client-go/rest/watch.(*Decoder).Decode"},
			"JSON: encoding and decoding (reviews, objects, patches)", false},
		{"a GC worker", []string{"runtime.scanObject", "runtime.gcDrain", "runtime.gcBgMarkWorker"}, bench.KindRuntime, false},
		{"policy validation", []string{"strings.Fields", "github.com/metrics-proxy/injector/webhook/policy.Validate", serve},
			"policy: validating haproxy.cfg and the DaemonSet", true},
		{"nothing known", []string{"main.main"}, bench.KindOther, false},
		{"serve's /metrics", []string{"encoding/json.Marshal", "github.com/prometheus/client_golang/prometheus/promhttp.HandlerForTransactional.func1", serve},
			bench.KindScrapes, false},
		{"the profiler's handler", []string{"compress/gzip.(*Writer).Write", "net/http/pprof.Profile", serve}, bench.KindScrapes, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, in := bench.CPUKind(tt.frames)
			assert.Equal(t, tt.kind, kind)
			assert.Equal(t, tt.inRequest, in)
		})
	}
}

// TestCPUProfileReport: the shares sum per kind, sort by CPU and show per review.
func TestCPUProfileReport(t *testing.T) {
	p := &bench.CPUProfile{Duration: 30 * time.Second, Reviews: 1000}
	tlsStack := []string{"crypto/aes.encrypt", "net/http.(*conn).serve"}
	p.AddSample(tlsStack, 100*time.Millisecond)
	p.AddSample(tlsStack, 100*time.Millisecond)
	p.AddSample([]string{"runtime.gcDrain", "runtime.gcBgMarkWorker"}, 300*time.Millisecond)
	p.AddSample([]string{"log/slog.(*JSONHandler).Handle", "net/http.(*conn).serve"}, 50*time.Millisecond)
	p.Sort()
	assert.Equal(t, 550*time.Millisecond, p.Total)
	assert.Equal(t, bench.KindRuntime, p.Shares[0].Kind)
	assert.Equal(t, "TLS: encryption and records", p.Shares[1].Kind)
	assert.Equal(t, 200*time.Millisecond, p.Shares[1].InRequests)
	r := &bench.Report{EndToEnd: bench.EndToEndFigures{Profile: p,
		Breakdown: []bench.Breakdown{{Scenario: bench.ScenarioNone, Creates: 1}}}}
	md := bench.Markdown(r)
	assert.Contains(t, md, "| TLS: encryption and records | 200ms | 80% | 0s | 200 µs |")
	assert.Contains(t, md, "| all | 250ms | 100% | 300ms | 250 µs |")
	assert.True(t, strings.Index(md, "| TLS") < strings.Index(md, "| logging"), "most CPU first")
}
