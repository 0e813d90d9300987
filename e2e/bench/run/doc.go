// Command run is `make bench`: it measures metrics-proxy in four parts and writes the figures,
// beside the targets of the benchmark issue, to docs/benchmarks.md and to its standard output.
//
//  1. core microbenchmarks: `go test -bench -benchmem` of webhook/inject, webhook/policy and
//     webhook/admission;
//  2. the webhook server over HTTPS, loaded by a separate process (e2e/bench/loadgen): throughput
//     at saturation and latency at a fixed rate, of a no-op handler (the floor), DaemonSet
//     injection and ConfigMap validation, all on one server (e2e/bench/server);
//  3. DaemonSet creates end to end through a local kube-apiserver: no admission, our webhook, an
//     equivalent MutatingAdmissionPolicy, and our webhooks as deploy/base installs them;
//  4. the resident memory of `metrics-proxy serve`, idle and under the load of part 2.
//
// Every part is bounded in count and time, all traffic stays on loopback, and a part that fails
// is reported as such while the others still run.
package main
