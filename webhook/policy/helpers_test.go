package policy_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/policy"
)

// head is a defaults section in mode http: lines 1 to 5.
const head = "defaults\n  mode http\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n"

// Lines of a compliant kube-proxy frontend and backend.
const (
	bind   = "  bind ${NODE_IP}:10249\n"
	deny   = "  http-request deny if !{ path /metrics }\n"
	route  = "  default_backend kube-proxy\n"
	server = "  server kube-proxy 127.0.0.1:10249 check\n"
)

// kp returns head, then a kube-proxy frontend made of fe and a backend made of be.
func kp(fe, be string) string {
	return head + "frontend kube-proxy\n" + fe + "backend kube-proxy\n" + be
}

// std is a compliant config for kube-proxy alone.
func std() string { return kp(bind+deny+route, server) }

// withFE is std with extra lines appended to the frontend.
func withFE(extra string) string { return kp(bind+deny+route+extra, server) }

// withBE is std with extra lines appended to the backend.
func withBE(extra string) string { return kp(bind+deny+route, server+extra) }

// marker flags the lines a reject case expects violations on.
const marker = "#<"

// markedLines returns the 1-based numbers of the lines that carry the marker.
func markedLines(cfg string) []int {
	var out []int
	for i, l := range strings.Split(cfg, "\n") {
		if strings.Contains(l, marker) {
			out = append(out, i+1)
		}
	}
	return out
}

// render returns one violation per line, for failure messages.
func render(vs []policy.Violation) string {
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.String()
	}
	return strings.Join(lines, "\n")
}

func readSeed(t testing.TB) []byte {
	t.Helper()
	src, err := os.ReadFile("../inject/testdata/seed-haproxy.cfg")
	require.NoError(t, err)
	return src
}
