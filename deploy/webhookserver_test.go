package deploy_test

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/inject"
)

// startWebhookServer runs our webhook server on loopback until the test ends, serving
// tls.crt and tls.key from certDir as `serve --cert-mode=cert-manager` does from the mounted
// Secret. It returns the server's host:port once /readyz answers.
func startWebhookServer(t *testing.T, cfg *rest.Config, certDir string) string {
	t.Helper()
	ports := freePorts(t, 2)
	probes := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	mgr, err := server.New(cfg, server.Options{
		Inject: inject.Config{Version: "deploy-test"}, Host: "127.0.0.1", Port: ports[0],
		Certs: &certs.Files{Dir: certDir}, MetricsBindAddress: "0", HealthProbeBindAddress: probes,
	})
	require.NoError(t, err)
	runInBackground(t, "webhook server", mgr.Start)
	poll(t, "webhook server ready", 30*time.Second, func() error {
		resp, err := http.Get("http://" + probes + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %s", resp.Status)
		}
		return nil
	})
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports, err := harness.FreePorts("127.0.0.1", n)
	require.NoError(t, err)
	return ports
}
