// Package attack runs `metrics-proxy serve` as its own process, with the memory limit of the
// deploy manifests, behind a real kube-apiserver, and attacks it the way a tenant and any pod on
// the network can: ConfigMaps of a mebibyte, DaemonSets of thousands of containers, deeply nested
// and oversized reviews sent straight to its port. The test proves the server stays under its
// limit while an ordinary proxy DaemonSet is still admitted within the webhook's timeout, and
// logs the figures (peak memory, admission latency before and during the attack).
package attack
