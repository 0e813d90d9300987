// Package cluster runs a local Kubernetes cluster of real nodes on this machine: each node is a
// network namespace with its own 127.0.0.1, its own containerd (Debian's, with runc) and a real
// kubelet v1.37.2, both in one private mount namespace. The control-plane node is shaped like
// kubeadm's: etcd, kube-apiserver, kube-controller-manager and kube-scheduler are static pods of
// its kubelet (mirror pods labelled component and tier, metrics on the node's 127.0.0.1, etcd's on
// 2381); kube-proxy runs as a DaemonSet on every node (iptables mode, metrics on 127.0.0.1:10249).
// Pods get their network from Debian's CNI plugins inside the nodes' namespaces; images are built
// locally (e2e/image) and loaded with ctr, never pulled.
//
// InstallWebhook installs metrics-proxy as the README says (kubectl apply -k on a deploy
// overlay, the image loaded on every node); RunSeed runs the seed procedure on the cluster and
// RunPrometheus kube-prometheus-stack's default scrape through it (the real Prometheus Operator
// and Prometheus on this machine, which reaches the node IPs over the bridge), for
// the tests and for `make demo`.
//
// Nothing machine-wide changes: the sysctls the kubelet insists on are files bind-mounted over
// /proc/sys inside each node's mount namespace; the paths kubelet and containerd hard-code
// (/var/lib/kubelet, /var/log/containers, /run/containerd) are per-node bind mounts there too;
// traffic stays on a bridge of 198.18.100.0/24 and the nodes' own interfaces. Up takes a
// machine-wide lock and first removes what a killed run left (processes in the nodes' namespaces
// or cgroups, cgroups, namespaces, links, the state directory); Down removes everything, and the
// kernel kills the direct children if the test process dies.
//
// The facts behind each setting (cgroup v1, withheld CAP_SYS_RESOURCE, containerd 1.6 without
// the RuntimeConfig call, `ip netns exec` hiding the cgroup mounts) are in the real-node recipe
// the design page points to.
package cluster
