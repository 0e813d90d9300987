package inject

import (
	"fmt"
	"strings"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/names"
)

// HAProxyConfig returns the haproxy.cfg that proxies the metrics of cs. For all components it is
// the seed procedure's configuration, byte for byte: per component a frontend on
// ${NODE_IP}:PORT that denies everything but /metrics, and a backend on 127.0.0.1:PORT.
func HAProxyConfig(cs []components.Component) string {
	var b strings.Builder
	b.WriteString("defaults\n" +
		"  mode http\n" +
		"  timeout connect 5000ms\n" +
		"  timeout client 5000ms\n" +
		"  timeout server 5000ms\n" +
		"  default-server maxconn 10\n")
	for _, c := range cs {
		tls := ""
		if c.TLS {
			tls = " ssl verify none"
		}
		fmt.Fprintf(&b, "\nfrontend %[1]s\n"+
			"  bind ${%[2]s}:%[3]d\n"+
			"  http-request deny if !{ path /metrics }\n"+
			"  default_backend %[1]s\n"+
			"backend %[1]s\n"+
			"  server %[1]s %[4]s%[5]s check\n",
			c.Name, names.NodeIPEnv, c.Port, c.Upstream(), tls)
	}
	return b.String()
}
