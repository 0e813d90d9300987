package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/metrics-proxy/injector/webhook/names"
)

// addDefaultImageFlag is --default-image, the same on serve, inject and validate, so the offline
// commands inject what the webhook would.
func addDefaultImageFlag(cmd *cobra.Command, image *string) {
	cmd.Flags().StringVar(image, "default-image", names.DefaultImage, "proxy image when a DaemonSet does not set metrics-proxy.io/image")
}

// addProxyCertImageFlag is --proxy-cert-image, the metrics-proxy image the proxy-cert init
// container runs; default $METRICS_PROXY_IMAGE (the manifests set it to the server's own image).
func addProxyCertImageFlag(cmd *cobra.Command, image *string) {
	cmd.Flags().StringVar(image, "proxy-cert-image", envOr("METRICS_PROXY_IMAGE", names.DefaultInjectorImage),
		"metrics-proxy image of the proxy-cert init container (per-node frontend certificate); default $METRICS_PROXY_IMAGE")
}

// countOf says "1 thing" or "N things".
func countOf(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
