package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/metrics-proxy/injector/e2e/cluster"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/seed"
)

func main() {
	nodes := flag.String("nodes", "played", "played: a local control plane, the kubelet played (e2e/seed); real: real nodes (e2e/cluster, needs root, containerd, runc, the CNI plugins); auto: real when this machine allows it")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard()) // the webhook server's logs would drown the narration
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout, *nodes)
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

func run(ctx context.Context, out io.Writer, nodes string) error {
	bin := filepath.Join(harness.RepoRoot(), "bin")
	switch nodes {
	case "real":
		return realNodes(ctx, out, bin)
	case "auto":
		why := cluster.Requirements(bin)
		if why == "" {
			return realNodes(ctx, out, bin)
		}
		fmt.Fprintf(out, "Real nodes are not possible here (%s): the kubelet is played instead.\n\n", why)
	case "played":
	default:
		return fmt.Errorf("-nodes %q: want played, real or auto", nodes)
	}
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
	cmd, err := seed.NetnsCommand(self, "-nodes", "played")
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

// realNodes runs the seed procedure on a cluster of real nodes and tears it down.
func realNodes(ctx context.Context, out io.Writer, bin string) (err error) {
	fmt.Fprintln(out, `The seed procedure on real nodes. Everything is real: two nodes (network namespaces of this
machine, each with its own 127.0.0.1, containerd, runc and kubelet v1.37.2), the control plane as
static pods of the control-plane node (etcd metrics on 127.0.0.1:2381, kube-controller-manager on
127.0.0.1:10257, kube-scheduler on 127.0.0.1:10259), kube-proxy as a DaemonSet (127.0.0.1:10249),
pod networking from the CNI plugins, images built locally (haproxy is this machine's), the
webhook installed from deploy/ as pods.`)
	fmt.Fprintln(out)
	prom, err := seed.PrometheusBinaries(bin)
	if err != nil {
		return err
	}
	start := time.Now()
	c, err := cluster.Up(ctx, cluster.Options{Workers: 1, Bin: bin, Out: out})
	if err != nil {
		return err
	}
	defer func() {
		if derr := c.Down(); derr != nil && err == nil {
			err = derr
		}
	}()
	fmt.Fprintf(out, "cluster up in %.1fs: kubectl --kubeconfig %s get nodes,pods -A\n\n", time.Since(start).Seconds(), c.Kubeconfig)
	if _, err := c.RunSeed(ctx, out); err != nil {
		return err
	}
	fmt.Fprintln(out, `
Prometheus's view. The real Prometheus Operator and Prometheus run on this machine, which reaches
the node IPs over the cluster's bridge: kube-prometheus-stack's default Services and
ServiceMonitors, EndpointSlices from the real endpointslice controller, the scrape configuration
the Operator writes, discovery through the API server, scrapes through the real haproxy.`)
	if _, err := c.RunPrometheus(ctx, out, prom); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nDone in %.1fs: the seed procedure works end to end on real nodes, and kube-prometheus-stack's default scrape through it\n", time.Since(start).Seconds())
	return nil
}
