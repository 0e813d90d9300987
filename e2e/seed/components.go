package seed

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/metrics-proxy/injector/webhook/components"
)

// StartTimeout bounds how long a component may take to become healthy.
const StartTimeout = 60 * time.Second

// component names a control-plane component the scenario runs next to kube-apiserver.
type component struct {
	name string
	port int32
	// args are the component's own flags; serving and delegation flags are added.
	args []string
}

// controllerManager runs only the daemonset controller, with the admin credentials for every
// controller (no service-account token controller runs) and no leader election.
func controllerManager() component {
	c, _ := components.Lookup("kube-controller-manager")
	return component{name: c.Name, port: c.Port, args: []string{
		"--controllers=daemonset-controller,endpointslice-controller",
		"--use-service-account-credentials=false",
		"--leader-elect=false",
		"--concurrent-daemonset-syncs=2",
	}}
}

// scheduler binds the daemonset pods to their nodes, as in a cluster.
func scheduler() component {
	c, _ := components.Lookup("kube-scheduler")
	return component{name: c.Name, port: c.Port, args: []string{"--leader-elect=false"}}
}

// startComponent runs c from assets on 127.0.0.1:c.port, HTTPS with a self-signed certificate in
// dir, authenticating and authorizing every request to /metrics through the API server
// (TokenReview, SubjectAccessReview) with kubeconfig's credentials, which are also its own. It
// returns once /healthz answers 200.
func startComponent(ctx context.Context, assets, dir, kubeconfig string, c component) (*process, error) {
	certDir := filepath.Join(dir, c.name)
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	args := append([]string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(int(c.port)),
		"--cert-dir=" + certDir,
		// Tokens only: envtest's kube-apiserver publishes no request-header CA to look up.
		"--authentication-skip-lookup=true",
	}, c.args...)
	p, err := startProcess(c.name, filepath.Join(assets, c.name), args, nil, nil)
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", c.port)
	err = p.waitFor(ctx, c.name+" healthy at "+url, StartTimeout, func(ctx context.Context) error {
		status, _, err := get(ctx, insecureClient, url, "")
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("status %d", status)
		}
		return err
	})
	if err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// insecureClient talks HTTPS to the components' self-signed certificates on 127.0.0.1 only, as
// HAProxy's `ssl verify none` does.
var insecureClient = &http.Client{
	Timeout: 5 * time.Second,
	Transport: &http.Transport{
		Proxy:           nil,
		DialContext:     loopbackDial,
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // self-signed, loopback
	},
}
