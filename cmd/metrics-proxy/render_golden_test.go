package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRenderGolden: what `render` prints for the documented flag sets, byte for byte
// (go test ./cmd/metrics-proxy -update rewrites testdata/render).
func TestRenderGolden(t *testing.T) {
	base := []string{"render", "--namespace", "monitoring", "--scraper", "monitoring/prometheus"}
	tests := []struct {
		name string
		args []string
	}{
		{"default", nil},
		{"tls-none", []string{"--tls", "none"}},
		{"tls-all-with-secret", []string{"--tls", "kube-proxy,kube-controller-manager,kube-scheduler,etcd", "--tls-secret", "metrics-proxy-tls"}},
		{"external-etcd", []string{"--components", "kube-proxy,kube-controller-manager,kube-scheduler"}},
		{"prometheus-operator", []string{"--prometheus", "operator"}},
		{"prometheus-scrape-config", []string{"--prometheus", "scrape-config"}},
		{"cert-manager", []string{"--tls-secret", "metrics-proxy-tls", "--cert-manager-issuer", "ClusterIssuer/metrics-ca"}},
		{"cert-manager-issuer-ips", []string{"--tls-secret", "metrics-proxy-tls", "--cert-manager-issuer", "Issuer/node-ca",
			"--cert-dns-names", "scrape.example.com", "--cert-ip-addresses", "10.0.0.11,10.0.0.12"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := runCLI(t, append(base, tt.args...)...)
			golden := filepath.Join("testdata", "render", tt.name+".golden")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, out, 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "missing golden: run go test ./cmd/metrics-proxy -update")
			assert.Equal(t, string(want), string(out))
		})
	}
}
