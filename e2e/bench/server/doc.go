// Command server is the webhook server that `make bench` loads: what `metrics-proxy serve`
// runs, built the same way (server.New with the same options, logging JSON at the
// default level), plus one path that only the benchmark has: bench.NoopPath, a handler that allows
// every request without looking at it. Its latency and throughput are the floor, the cost of
// HTTPS, the AdmissionReview round trip and controller-runtime, on the same server as ours.
//
//	KUBECONFIG=FILE server --cert-dir DIR --port 9443 --health-probe-bind-address 127.0.0.1:8081
package main
