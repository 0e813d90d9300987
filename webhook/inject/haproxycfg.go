package inject

import (
	"fmt"
	"strings"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/names"
)

// HAProxyConfig returns the all-HTTP haproxy.cfg that proxies the metrics of cs (the tls
// annotation "none"). For all components it is the seed procedure's configuration, byte for byte:
// per component a frontend on ${NODE_IP}:PORT that denies everything but /metrics, and a backend
// on 127.0.0.1:PORT.
func HAProxyConfig(cs []components.Component) string { return HAProxyConfigTLS(cs, nil) }

// HAProxyConfigTLS is HAProxyConfig where the frontends of the components in tls terminate TLS
// with the certificate at names.CertFile: bind ${NODE_IP}:PORT ssl crt CERTFILE. The backend
// re-encrypts to components whose upstream serves HTTPS (ssl verify none); the Authorization
// header passes through untouched, so the component still authorizes the scraper.
func HAProxyConfigTLS(cs, tls []components.Component) string {
	return HAProxyConfigFiltered(cs, tls, Filter{})
}

// Filter is what every frontend lets through: the exact paths (default /metrics) and, when
// Methods is not empty, only those methods. It is how a generated config follows a policy's
// allowedPaths and allowedMethods.
type Filter struct {
	Paths   []string
	Methods []string
}

// HAProxyConfigFiltered is HAProxyConfigTLS where each frontend denies every path but f.Paths and,
// when f.Methods is set, every other method: "http-request deny if !{ path P... }" first (the
// policy's path-deny rule), then "http-request deny unless { method M... }".
func HAProxyConfigFiltered(cs, tls []components.Component, f Filter) string {
	paths := "/metrics"
	if len(f.Paths) > 0 {
		paths = strings.Join(f.Paths, " ")
	}
	methods := ""
	if len(f.Methods) > 0 {
		methods = "  http-request deny unless { method " + strings.Join(f.Methods, " ") + " }\n"
	}
	var b strings.Builder
	b.WriteString("defaults\n" +
		"  mode http\n" +
		"  timeout connect 5000ms\n" +
		"  timeout client 5000ms\n" +
		"  timeout server 5000ms\n" +
		"  default-server maxconn 10\n")
	for _, c := range cs {
		upstreamTLS, frontendTLS := "", ""
		if c.TLS {
			upstreamTLS = " ssl verify none"
		}
		if components.Contains(tls, c.Name) {
			frontendTLS = " ssl crt " + names.CertFile
		}
		fmt.Fprintf(&b, "\nfrontend %[1]s\n"+
			"  bind ${%[2]s}:%[3]d%[6]s\n"+
			"  http-request deny if !{ path %[7]s }\n"+
			"%[8]s"+
			"  default_backend %[1]s\n"+
			"backend %[1]s\n"+
			"  server %[1]s %[4]s%[5]s check\n",
			c.Name, names.NodeIPEnv, c.Port, c.Upstream(), upstreamTLS, frontendTLS, paths, methods)
	}
	return b.String()
}
