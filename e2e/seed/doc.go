// Package seed executes the seed procedure ("Expose metrics for EKS Anywhere components") for
// real on this machine, with metrics-proxy doing the work a person would do by hand. It is the
// end-to-end scenario of the e2e tests and the program of `make demo`; both call Run.
//
// Run takes the component-port lock of e2e/dataplane (other test packages use the same fixed
// ports), checks that 10249, 10257, 10259 and 2381 are free on 127.0.0.1 and on NodeIP and
// names the process holding one otherwise, then:
//
//  1. starts etcd (metrics on 127.0.0.1:2381), kube-apiserver and the metrics-proxy webhook
//     (e2e/harness), kube-controller-manager (the daemonset controller only, 127.0.0.1:10257),
//     kube-scheduler (127.0.0.1:10259), both with authentication and authorization delegated to
//     the API server, and a stand-in HTTP server for kube-proxy on 127.0.0.1:10249 (real
//     kube-proxy needs root and iptables);
//  2. registers a control-plane Node (tainted NoSchedule, InternalIP NodeIP) and a worker Node
//     (WorkerIP), both Ready; no node lifecycle controller runs, so they stay Ready;
//  3. labels a namespace, applies what `metrics-proxy render` prints and an opted-out DaemonSet,
//     and waits until the daemonset controller and the scheduler placed the proxy on both nodes
//     and the opted-out DaemonSet on the worker only;
//  4. plays the kubelet of the control-plane node for the proxy pod: NODE_IP from the node's
//     address, the mounted ConfigMap written to a directory, the real haproxy run on it;
//  5. scrapes NodeIP:PORT/metrics with a TokenRequest token of the scraper service account, and
//     checks what HAProxy and kube-controller-manager deny;
//  6. edits the live ConfigMap to allow everything and expects the API server to deny the edit.
//
// Every step prints what it does to Options.Out. Everything Run starts it stops before it
// returns, on failure and cancellation too; child processes also die with this process
// (Linux's parent-death signal). Every wait is bounded and all traffic stays on loopback.
package seed
