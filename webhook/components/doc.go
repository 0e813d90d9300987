// Package components is the single source of truth for the control-plane components whose
// localhost-only metrics metrics-proxy exposes: their names, ports, upstream TLS and the names of
// the proxy's container ports. Every other package takes ports and names from here.
package components
