// Package harness runs a local control plane for tests and the demo: kube-apiserver and etcd built
// from the Go module proxy (driven by controller-runtime's envtest), the MutatingWebhookConfiguration
// of deploy/base pointed at a local metrics-proxy webhook server, and the clients to talk to both
// (a controller-runtime client and the real kubectl). Everything it starts, Stop stops.
package harness
