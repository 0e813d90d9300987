// Command demo is `make demo`: the seed procedure ("Expose metrics for EKS Anywhere
// components") executed for real on this machine, with metrics-proxy doing the work (package
// e2e/seed). It starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler built
// from the Go module proxy, the metrics-proxy webhook and a stand-in for kube-proxy, registers a
// control-plane node and a worker, applies what `metrics-proxy render` prints, plays the
// control-plane node's kubelet for the proxy pod with the real haproxy, scrapes every component
// through it with service-account tokens, and shows the API server denying an edit that would
// open every path. It stops everything it started when it ends, on failure and Ctrl-C too.
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
	_, err = seed.Run(ctx, seed.Options{Assets: assets, HAProxy: haproxy, Out: out})
	return err
}
