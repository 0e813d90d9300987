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

// countOf says "1 thing" or "N things".
func countOf(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
