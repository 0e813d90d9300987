package main

import (
	"fmt"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/webhook/names"
)

// newProxyCertCommand is `metrics-proxy proxy-cert`, what the proxy-cert init container runs.
func newProxyCertCommand() *cobra.Command {
	var ip, out string
	cmd := &cobra.Command{
		Use:   "proxy-cert",
		Short: "Write a fresh key and a self-signed certificate for the node's IP (the proxy pod's init container)",
		Long: `proxy-cert writes a new ECDSA key (OUT.key, mode 0600) and a self-signed certificate for IP
(OUT) that the proxy's TLS frontends serve. It runs at every start of a proxy pod, into an in-memory
volume: the key never leaves the node and is never printed; only the certificate's fingerprint is.`,
		Example: "  metrics-proxy proxy-cert --ip $(NODE_IP) --out " + names.CertFile,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr := net.ParseIP(ip)
			if addr == nil {
				return fmt.Errorf("--ip %q: not an IP address (is %s set from status.hostIP?)", ip, names.NodeIPEnv)
			}
			c, err := certs.NewNodeCert(addr, time.Now())
			if err != nil {
				return err
			}
			if err := c.Write(out); err != nil {
				return err
			}
			cmd.Printf("proxy-cert: certificate for %s written to %s (key %s.key), SHA-256 %s\n", addr, out, out, c.Fingerprint)
			return nil
		},
	}
	cmd.Flags().StringVar(&ip, "ip", "", "the node's IP, the certificate's only subject")
	cmd.Flags().StringVar(&out, "out", names.CertFile, "certificate path; the key goes to the same path + .key")
	return cmd
}
