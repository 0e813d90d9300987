package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/bench"
	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

func main() {
	// A flag set of its own: controller-runtime registers --kubeconfig on the global one.
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	var o server.Options
	var certDir, cpuProfile string
	fs.StringVar(&certDir, "cert-dir", "", "directory with tls.crt and tls.key")
	fs.StringVar(&o.Host, "host", "127.0.0.1", "address of the webhook server")
	fs.IntVar(&o.Port, "port", 9443, "port of the webhook server")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", "0", `address of /metrics; "0" turns it off`)
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", "", "address of /healthz and /readyz")
	fs.StringVar(&o.PolicyFile, "policy", "", "policy file; default: the built-in policy")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	_ = fs.Parse(os.Args[1:]) // ExitOnError: a bad flag exits
	o.Certs = &certs.Files{Dir: certDir}
	if cpuProfile != "" {
		stop, err := profileCPU(cpuProfile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench server: %v\n", err)
			os.Exit(1)
		}
		defer stop()
	}
	if err := serve(ctrl.SetupSignalHandler(), o); err != nil {
		fmt.Fprintf(os.Stderr, "bench server: %v\n", err)
		os.Exit(1)
	}
}

// serve runs the server until ctx ends, as `metrics-proxy serve` does, with bench.NoopPath added.
func serve(ctx context.Context, o server.Options) error {
	logger := logr.FromSlogHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctrl.SetLogger(logger)
	cfg, err := config.GetConfig() // as serve without --kubeconfig: $KUBECONFIG or in-cluster
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	o.Inject = inject.Config{Version: "bench", DefaultImage: names.DefaultImage}
	o.Logger = logger
	mgr, err := server.New(cfg, o)
	if err != nil {
		return err
	}
	mgr.GetWebhookServer().Register(bench.NoopPath, &webhook.Admission{Handler: cradmission.HandlerFunc(
		func(context.Context, cradmission.Request) cradmission.Response { return cradmission.Allowed("") })})
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// profileCPU starts a CPU profile written to path; the returned function ends it.
func profileCPU(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}
