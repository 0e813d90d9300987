//go:build linux

package cluster

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/seed"
	"github.com/metrics-proxy/injector/e2e/testtool"
)

// testPrometheus is the issue-13 proof on real nodes, on the cluster TestSeedOnRealNodes brought
// up (once: the seed's all-HTTP proxies are the counter-check's starting point). RunPrometheus:
// the real Prometheus Operator and Prometheus (make prometheus), kube-prometheus-stack's default
// Services and ServiceMonitors, the real endpointslice controller, discovery through the API
// server and scrapes through the real haproxy on the node IPs.
func testPrometheus(ctx context.Context, t *testing.T, c *Cluster) {
	o, err := seed.PrometheusBinaries(bin(t))
	if err != nil {
		testtool.Missing(t, err.Error())
	}
	start := time.Now()
	var out bytes.Buffer
	rep, err := c.RunPrometheus(ctx, &out, o)
	t.Logf("Prometheus on real nodes (%s):\n%s", time.Since(start).Round(100*time.Millisecond), out.String())
	require.NoError(t, err)

	// Counter-check: the seed's all-HTTP frontends leave the two HTTPS jobs down with the TLS error.
	want := c.WantTargets()
	require.Len(t, rep.SeedTargets, len(want))
	for _, tg := range rep.SeedTargets {
		if tg.Job == "kube-controller-manager" || tg.Job == "kube-scheduler" {
			assert.Equal(t, "down", tg.Health, "%s %s", tg.Job, tg.Instance)
			assert.Contains(t, tg.LastError, "server gave HTTP response to HTTPS client")
		} else {
			assert.Equal(t, "up", tg.Health, "%s %s: %s", tg.Job, tg.Instance, tg.LastError)
		}
	}
	assert.Contains(t, rep.SeedAlerts, "KubeControllerManagerInstanceUnreachable pending")
	assert.Contains(t, rep.SeedAlerts, "KubeSchedulerInstanceUnreachable pending")

	// The webhook injected its own re-tagged image in the proxy-cert init container, and admitted it.
	assert.Contains(t, out.String(), "proxy-cert runs "+WebhookImage)

	// render's default TLS frontends: every target KPS's defaults give is up, scraped at the node
	// IPs through the proxies, with one real series per component and no alert pending.
	wantUp := map[string]string{}
	for key := range want {
		wantUp[key] = "1"
	}
	assert.Equal(t, wantUp, rep.Up, "up for every job and instance")
	for _, tg := range rep.Targets {
		assert.Equal(t, "up", tg.Health, "%s %s: %s", tg.Job, tg.Instance, tg.LastError)
		switch tg.Job {
		case "kube-controller-manager", "kube-scheduler":
			assert.Regexp(t, `^https://198\.18\.100\.\d+:102[5-9]{2}/metrics$`, tg.ScrapeURL)
		default:
			assert.Regexp(t, `^http://198\.18\.100\.\d+:(2381|10249)/metrics$`, tg.ScrapeURL)
		}
	}
	for _, q := range SeriesQueries() {
		assert.Positive(t, rep.Series[q], "no series for %s", q)
	}
	assert.Equal(t, len(c.Nodes), rep.Series[SeriesQueries()[3]], "kube-proxy's real series from every node")
	for _, a := range seed.MixinAlerts {
		assert.Contains(t, rep.Alerts, a.Name+" inactive")
	}

	// render --prometheus operator, reconciled by the real Operator, loaded by a real Prometheus.
	require.Len(t, rep.RenderTargets, len(want))
	for _, tg := range rep.RenderTargets {
		assert.Equal(t, "up", tg.Health, "%s %s: %s", tg.Job, tg.Instance, tg.LastError)
		assert.Contains(t, want, tg.Job+" "+tg.Instance)
	}
}
