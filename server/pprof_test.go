package server_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/server"
)

// TestPprofOnlyWhenAsked: /debug/pprof/ is served on PprofBindAddress when it is set, and on no
// address of the server's otherwise (it is unauthenticated).
func TestPprofOnlyWhenAsked(t *testing.T) {
	needControlPlane(t)
	hc := &http.Client{Timeout: 10 * time.Second}
	get := func(url string) int {
		resp, err := hc.Get(url)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	off := startServer(t, cfg, "", nil)
	assert.Equal(t, http.StatusNotFound, get("http://"+off.probes+"/debug/pprof/cmdline"), "the probe server")
	assert.NotEqual(t, http.StatusOK, get("http://"+off.metrics+"/debug/pprof/cmdline"), "the metrics server")

	ports, err := harness.FreePorts("127.0.0.1", 1)
	require.NoError(t, err)
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	startServer(t, cfg, "", func(o *server.Options) { o.PprofBindAddress = addr })
	require.Eventually(t, func() bool { return get("http://"+addr+"/debug/pprof/cmdline") == http.StatusOK },
		30*time.Second, 100*time.Millisecond, "no /debug/pprof/ on the address asked for")
}
