package e2e

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/dataplane"
	"github.com/metrics-proxy/injector/e2e/seed"
	"github.com/metrics-proxy/injector/e2e/testtool"
)

// scenarioBudget is how long one run of the seed scenario may take, binaries built.
const scenarioBudget = 2 * time.Minute

// TestSeed runs the seed procedure for real (package seed): the injected proxy on the
// control-plane node serves the real components' metrics to the scraper's token and nothing
// else, and the API server refuses a config that would open every path.
func TestSeed(t *testing.T) {
	assets, haproxy := binaries(t)
	// From a directory only root may enter (a 0700 home, a mktemp -d checkout): the proxy runs as
	// the container's user and must not depend on entering the test's working directory.
	private := t.TempDir()
	require.NoError(t, os.Chmod(private, 0o700))
	t.Chdir(private)
	ctx, cancel := context.WithTimeout(context.Background(), scenarioBudget)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	rep, err := seed.Run(ctx, seed.Options{Assets: assets, HAProxy: haproxy, Out: &out})
	require.NoError(t, err, out.String())
	t.Logf("the scenario took %s", time.Since(start).Round(100*time.Millisecond))

	assert.ElementsMatch(t, []string{seed.ControlPlaneNode, seed.WorkerNode}, keys(rep.ProxyPods), "proxy pods by node")
	assert.Equal(t, []string{seed.WorkerNode}, keys(rep.OptedOutPods), "the opted-out DaemonSet's pods by node")
	assert.Contains(t, rep.Proxy, "NODE_IP="+seed.NodeIP)

	require.Len(t, rep.Scrapes, 14, out.String())
	metrics := map[string]bool{}
	for _, s := range rep.Scrapes {
		assert.True(t, s.OK(), "%s", s)
		if s.Status == 200 {
			metrics[s.WantText] = true
		}
	}
	for component, metric := range seed.ComponentMetric {
		assert.True(t, metrics[metric], "no scrape of %s returned %s", component, metric)
	}
	assert.Contains(t, rep.Denial, "denied the request")
	assert.Contains(t, rep.Denial, "http-request-action")
	assertNothingLeft(t, rep)
}

// TestSeedStopsEverythingOnFailure breaks the scenario late, when every component runs (haproxy
// is /bin/false), and checks that the failure names the cause and nothing is left running.
func TestSeedStopsEverythingOnFailure(t *testing.T) {
	assets, _ := binaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), scenarioBudget)
	defer cancel()
	var out bytes.Buffer
	rep, err := seed.Run(ctx, seed.Options{Assets: assets, HAProxy: "/bin/false", Out: &out})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "haproxy")
	assert.Contains(t, out.String(), "The last lines of kube-controller-manager", "a failure shows the components' output")
	assert.Contains(t, out.String(), "==> Stopping the kube-proxy stand-in, kube-scheduler, kube-controller-manager")
	assertNothingLeft(t, rep)
}

// assertNothingLeft checks, holding the component-port lock so that no other test takes the
// ports meanwhile, that the ports are free again, the API server is gone, the work directory is
// removed and no process runs from it.
func assertNothingLeft(t *testing.T, rep *seed.Report) {
	t.Helper()
	dataplane.LockPorts(t)
	assert.NoError(t, seed.CheckPorts())
	require.NotEmpty(t, rep.APIServer)
	u, err := url.Parse(rep.APIServer)
	require.NoError(t, err)
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		_ = c.Close()
		t.Errorf("kube-apiserver still accepts connections at %s", u.Host)
	}
	require.NotEmpty(t, rep.WorkDir)
	_, err = os.Stat(rep.WorkDir)
	assert.True(t, os.IsNotExist(err), "work directory %s not removed: %v", rep.WorkDir, err)
	assert.Empty(t, processesWith(t, "", rep.WorkDir), "processes left running from %s", rep.WorkDir)
}

// binaries returns the control-plane directory and haproxy, or skips (fails in CI) without them.
func binaries(t *testing.T) (assets, haproxy string) {
	t.Helper()
	assets, haproxy, err := seed.Binaries()
	if err != nil {
		testtool.Missing(t, err.Error())
	}
	return assets, haproxy
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
