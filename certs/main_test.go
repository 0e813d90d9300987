package certs_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/webhook/inject"
)

// cp is this package's local control plane; its webhook server (replica A) runs in self-signed
// mode, and the webhook configurations name https://localhost:PORT.
var (
	cp             *harness.ControlPlane
	noControlPlane error
)

// secretKey is where the replicas keep the CA.
var secretKey = types.NamespacedName{Namespace: "default", Name: "metrics-proxy-webhook-tls"}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	assets, err := harness.Assets()
	if err != nil {
		noControlPlane = err
		return m.Run()
	}
	ctrl.SetLogger(logr.Discard())
	cp, err = harness.Start(context.Background(), harness.Options{
		Assets: assets, Inject: inject.Config{Version: "certs-test"}, Logger: logr.Discard(), WebhookHost: "localhost",
		Certs: func(cfg *rest.Config, dir string) (certs.Source, error) { return selfSigned(cfg, dir) },
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "start control plane: %v\n", err)
		return 1
	}
	defer cp.Stop()
	return m.Run()
}

// selfSigned is a replica's certificate source: the same Secret, its own directory.
func selfSigned(cfg *rest.Config, dir string) (*certs.SelfSigned, error) {
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return nil, err
	}
	return &certs.SelfSigned{Client: c, Secret: secretKey, DNSNames: []string{"localhost"},
		WebhookConfiguration: "metrics-proxy", Dir: dir, Interval: 300 * time.Millisecond}, nil
}
