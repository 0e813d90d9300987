// Command pause is the sandbox ("infra") process of every pod on the real-node cluster, like
// registry.k8s.io/pause: it holds the pod's namespaces, reaps zombies and exits on SIGINT or
// SIGTERM. It is built static and packed into the sandbox image by e2e/cluster.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 8)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range sig {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
