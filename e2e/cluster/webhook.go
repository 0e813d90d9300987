package cluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/webhook/admission"
)

// RunWebhook runs the metrics-proxy webhook server in this process, as `metrics-proxy serve`
// would, on HostIP (which the API server reaches over the bridge) with a certificate of the
// cluster's CA, and installs deploy/base's webhook configurations pointed at it. It returns once
// the server is ready; the server stops when ctx ends or stop is called. This stands in for the
// webhook's pods until the deploy overlays run here.
func (c *Cluster) RunWebhook(ctx context.Context, log logr.Logger) (stop func(), err error) {
	ports, err := harness.FreePorts(HostIP, 2)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(c.dir, "webhook")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	for src, dst := range map[string]string{c.pki.path("webhook", "crt"): "tls.crt", c.pki.path("webhook", "key"): "tls.key"} {
		data, err := os.ReadFile(src)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, dst), data, 0o600)
		}
		if err != nil {
			return nil, fmt.Errorf("webhook certificate: %w", err)
		}
	}
	probe := net.JoinHostPort(HostIP, strconv.Itoa(ports[1]))
	mgr, err := admission.NewManager(c.Config, admission.ServerOptions{Host: HostIP, Port: ports[0], CertDir: dir,
		MetricsBindAddress: "0", HealthProbeBindAddress: probe, Logger: log})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stop = func() { cancel(); <-done }
	if err := harness.WaitReady(ctx, "http://"+probe+"/readyz", 30*time.Second, nil); err != nil {
		stop()
		return nil, fmt.Errorf("webhook server: %w", err)
	}
	if err := c.installWebhooks(ctx, net.JoinHostPort(HostIP, strconv.Itoa(ports[0]))); err != nil {
		stop()
		return nil, err
	}
	return stop, nil
}

// installWebhooks creates deploy/base's webhook configurations pointed at hostPort, trusting the
// cluster's CA.
func (c *Cluster) installWebhooks(ctx context.Context, hostPort string) error {
	hooks, err := harness.LoadWebhooks(hostPort, harness.WebhookManifests()...)
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(c.pki.path("ca", "crt"))
	if err != nil {
		return fmt.Errorf("webhook CA: %w", err)
	}
	api := c.Client.AdmissionregistrationV1()
	for _, m := range hooks.Mutating {
		for i := range m.Webhooks {
			m.Webhooks[i].ClientConfig.CABundle = ca
		}
		if _, err := api.MutatingWebhookConfigurations().Create(ctx, m, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("mutating webhook configuration: %w", err)
		}
	}
	for _, v := range hooks.Validating {
		for i := range v.Webhooks {
			v.Webhooks[i].ClientConfig.CABundle = ca
		}
		if _, err := api.ValidatingWebhookConfigurations().Create(ctx, v, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("validating webhook configuration: %w", err)
		}
	}
	return nil
}
