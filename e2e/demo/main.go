// Command demo is `make demo`: it starts a local control plane (etcd and kube-apiserver built from
// the Go module proxy) with the metrics-proxy webhook registered as deploy/ registers it, labels a
// namespace, applies a ConfigMap stub and a DaemonSet stub, and prints what the API server stored.
// It stops everything it started when it ends, on Ctrl-C too.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/webhook/inject"
)

const namespace = "demo"

const stub = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: metrics-proxy
  namespace: demo
spec:
  template:
    spec:
      containers: []
`

const configStub = `apiVersion: v1
kind: ConfigMap
metadata:
  name: metrics-proxy
  namespace: demo
  labels:
    metrics-proxy.io/config: haproxy
`

func main() {
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
	assets, err := harness.Assets()
	if err != nil {
		return err
	}
	step(out, "Starting etcd, kube-apiserver and the metrics-proxy webhook server (binaries from %s)", assets)
	cp, err := harness.Start(ctx, harness.Options{Assets: assets, Inject: inject.Config{Version: "demo"}})
	if err != nil {
		return err
	}
	defer func() {
		step(out, "Stopping the webhook server, kube-apiserver and etcd")
		cp.Stop()
	}()
	fmt.Fprintf(out, "  API server %s; webhooks registered from deploy/base\n", cp.Config.Host)

	k := func(stdin string, args ...string) error {
		fmt.Fprintf(out, "$ kubectl %s\n", strings.Join(args, " "))
		stdout, stderr, err := cp.Kubectl(ctx, stdin, args...)
		fmt.Fprint(out, indent(stdout), indent(stderr))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	steps := []struct {
		title string
		stdin string
		args  []string
	}{
		{"Create a namespace and enable injection in it", "", []string{"create", "namespace", namespace}},
		{"", "", []string{"label", "namespace", namespace, inject.NamespaceInjectionLabel + "=enabled"}},
		{"Apply a ConfigMap stub labelled " + inject.ConfigLabel + "=" + inject.ConfigLabelValue + " without haproxy.cfg", configStub, []string{"apply", "-f", "-"}},
		{"The haproxy.cfg the webhook filled in", "", []string{"get", "configmap", "metrics-proxy", "-n", namespace, "-o", "jsonpath={.data.haproxy\\.cfg}"}},
		{"Apply a DaemonSet stub: a name and containers: [], nothing else\n" + indent(stub), stub, []string{"apply", "-f", "-"}},
		{"The DaemonSet the API server stored: the complete proxy", "", []string{"get", "daemonset", "metrics-proxy", "-n", namespace, "-o", "yaml"}},
	}
	for _, s := range steps {
		if s.title != "" {
			step(out, "%s", s.title)
		}
		if err := k(s.stdin, s.args...); err != nil {
			return err
		}
	}
	return nil
}

// step prints a numbered heading.
func step(out io.Writer, format string, args ...any) {
	fmt.Fprintf(out, "\n==> "+format+"\n", args...)
}

// indent indents every line of s by two blanks.
func indent(s string) string {
	if s == "" {
		return ""
	}
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}
