package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/metrics-proxy/injector/e2e/bench"
	"github.com/metrics-proxy/injector/e2e/harness"
)

// microBenchmarks are the benchmarks of part 1: injection (stub, injected, 10 to 1000 env vars)
// pure and through the handler and PatchResponseFromRaw, and validation (the seed's config, a
// 1 MiB config, 1 MiB configs crafted against the validator, the ConfigMap handler).
const microBenchmarks = "^(BenchmarkDaemonSetJSON|BenchmarkDaemonSetInjector|BenchmarkPatchResponseFromRaw|" +
	"BenchmarkConfigMapValidator|BenchmarkValidateSeed|BenchmarkValidateConfig1MiB|BenchmarkValidateHostile1MiB)$"

// microPackages hold them.
var microPackages = []string{"./webhook/inject", "./webhook/policy", "./webhook/admission"}

// runMicro runs the microbenchmarks one package at a time (-p 1, so they never share the cores)
// and parses their results. webhook/admission's TestMain starts a control plane when bin/ has
// one; KUBEBUILDER_ASSETS pointing at an empty directory keeps it from doing so.
func runMicro(ctx context.Context, o options, out *bench.MicroFigures) error {
	args := append([]string{"test", "-p", "1", "-count", "1", "-run", "^$", "-bench", microBenchmarks,
		"-benchmem", "-benchtime", o.benchtime}, microPackages...)
	out.Command = "go " + strings.Join(quoteArgs(args), " ")
	noAssets, err := os.MkdirTemp("", "bench-no-assets-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(noAssets)
	var buf bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = harness.RepoRoot()
	cmd.Env = append(os.Environ(), "KUBEBUILDER_ASSETS="+noAssets)
	cmd.Stdout = io.MultiWriter(os.Stdout, &buf)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", out.Command, err)
	}
	results, err := bench.ParseGoBench(&buf)
	if err != nil {
		return err
	}
	if len(results) == 0 {
		return fmt.Errorf("%s: no benchmark results", out.Command)
	}
	out.Results = results
	return nil
}

// quoteArgs single-quotes the arguments a shell would otherwise expand.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$|()*? ") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}
