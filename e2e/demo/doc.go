// Command demo is `make demo`: the seed procedure ("Expose metrics for EKS Anywhere
// components") executed for real on this machine, with metrics-proxy doing the work (package
// e2e/seed). It starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler built
// from the Go module proxy, the metrics-proxy webhook and a stand-in for kube-proxy, registers a
// control-plane node and a worker, applies what `metrics-proxy render` prints, plays the
// control-plane node's kubelet for the proxy pod with the real haproxy, scrapes every component
// through it with service-account tokens, and shows the API server denying an edit that would
// open every path. It stops everything it started when it ends, on failure and Ctrl-C too.
package main
