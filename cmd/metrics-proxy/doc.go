// Command metrics-proxy is the metrics-proxy admission webhook server and its offline CLI:
// serve, inject, validate, render and version. Flags are parsed here and nowhere else; every
// subcommand is a few dozen lines around the pure cores in webhook/.
package main
