package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/metrics-proxy/injector/e2e/seed"
)

func main() {
	ctrllog.SetLogger(logr.Discard()) // the webhook server's logs would drown the narration
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout)
	stop()
	switch {
	case errors.Is(err, context.Canceled):
		fmt.Println("\ninterrupted: everything the demo started has been stopped")
		os.Exit(130)
	case err != nil:
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	assets, haproxy, err := seed.Binaries()
	if err != nil {
		return err
	}
	prom, err := seed.PrometheusBinaries(assets)
	if err != nil {
		return err
	}
	// The Prometheus part needs node addresses the API server accepts in EndpointSlices (not
	// loopback): the demo runs itself again in a network namespace of its own.
	if !seed.InNetns() {
		return inNetns(ctx, out)
	}
	if err := seed.NetnsSetup(); err != nil {
		return err
	}
	// METRICS_PROXY_BIN: a metrics-proxy binary for the proxy-cert init container; else built.
	_, err = seed.Run(ctx, seed.Options{Assets: assets, HAProxy: haproxy, Prometheus: prom,
		MetricsProxy: os.Getenv("METRICS_PROXY_BIN"), Out: out})
	return err
}

// inNetns runs this program again in a new network namespace, passing its output through and an
// interrupt on; it returns context.Canceled when interrupted.
func inNetns(ctx context.Context, out io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd, err := seed.NetnsCommand(self)
	if err != nil {
		return fmt.Errorf("%w (the demo's Prometheus part runs its nodes in a network namespace)", err)
	}
	cmd.Stdout, cmd.Stderr = out, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Signal(os.Interrupt)
		<-done
		return ctx.Err()
	}
}
