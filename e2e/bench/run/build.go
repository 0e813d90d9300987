package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/metrics-proxy/injector/e2e/harness"
)

// programs are the binaries the benchmark runs as processes of their own.
type programs struct {
	// serve is bin/metrics-proxy as `make build` builds it; server the bench server (serve plus
	// the no-op path); loadgen the load generator.
	serve, server, loadgen string
}

// buildPrograms builds the three programs into dir.
func buildPrograms(ctx context.Context, dir string) (programs, error) {
	p := programs{serve: filepath.Join(dir, "metrics-proxy"), server: filepath.Join(dir, "bench-server"),
		loadgen: filepath.Join(dir, "loadgen")}
	for _, b := range []struct{ out, pkg, ldflags string }{
		{p.serve, "./cmd/metrics-proxy", "-s -w -X main.version=" + serveVersion}, // as `make build`
		{p.server, "./e2e/bench/server", "-s -w"},
		{p.loadgen, "./e2e/bench/loadgen", "-s -w"},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", b.ldflags, "-o", b.out, b.pkg)
		cmd.Dir = harness.RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return programs{}, fmt.Errorf("go build %s: %w: %s", b.pkg, err, out)
		}
	}
	return p, nil
}

// serveVersion is the version metrics-proxy serve is built with; it writes it into the status
// annotation, which tells the webhook's injection from the policy's.
const serveVersion = "bench"

// freePorts asks the kernel for n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) { return harness.FreePorts("127.0.0.1", n) }
