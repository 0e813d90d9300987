// Command demo is `make demo`: the seed procedure ("Expose metrics for EKS Anywhere
// components") executed for real on this machine, with metrics-proxy doing the work.
//
// With -nodes real (or auto, what `make demo` passes, when the machine allows it: root,
// containerd, runc, the CNI plugins) it runs on real nodes (package e2e/cluster): a control-plane
// node and a worker with their own containerd and kubelet, the control plane as static pods,
// kube-proxy, metrics-proxy installed with `kubectl apply -k` on deploy/overlays/self-signed,
// render's output applied and the seed's test pod scraping through the proxy; then Prometheus's
// view (Cluster.RunPrometheus): the real Operator and Prometheus on kube-prometheus-stack's
// defaults, the seed's all-HTTP proxies as the counter-check, render's default TLS proxies with
// every target up.
//
// With -nodes played (the default) it runs package e2e/seed: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler built from the Go module proxy, the metrics-proxy
// webhook and a stand-in for kube-proxy, a control-plane node and a worker registered as API
// objects, render's output applied, the control-plane node's kubelet played for the proxy pod
// with the real haproxy, every component scraped through it with service-account tokens, and
// the API server denying an edit that would open every path.
//
// Either way it stops everything it started when it ends, on failure and Ctrl-C too.
package main
