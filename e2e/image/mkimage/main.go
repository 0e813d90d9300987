// Command mkimage writes the metrics-proxy image as an OCI archive without Docker (`make image`):
// the static binary of `make build` packed the way the Dockerfile packs it. Load it with
// `ctr -n k8s.io images import FILE` on a containerd node.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/metrics-proxy/injector/e2e/image"
)

func main() {
	binary := flag.String("binary", "bin/metrics-proxy", "the static metrics-proxy binary")
	ref := flag.String("ref", "metrics-proxy:latest", "the image reference (deploy/base uses metrics-proxy:latest)")
	out := flag.String("o", "bin/metrics-proxy-image.tar", "the OCI archive to write")
	flag.Parse()
	if err := run(*binary, *ref, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(binary, ref, out string) error {
	start := time.Now()
	img, err := image.Build(image.MetricsProxy(binary, ref))
	if err != nil {
		return err
	}
	if err := image.WriteOCI(out, ref, img); err != nil {
		return err
	}
	d, err := img.Digest()
	if err != nil {
		return fmt.Errorf("digest: %w", err)
	}
	fmt.Printf("image %s (%s) written to %s in %s\n", ref, d, out, time.Since(start).Round(time.Millisecond))
	return nil
}
