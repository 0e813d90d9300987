// Command run is `make bench`: it measures metrics-proxy in five parts and writes the figures,
// beside the targets of the benchmark issues, to docs/benchmarks.md and to its standard output.
//
//  1. core microbenchmarks: `go test -bench -benchmem` of webhook/inject, webhook/policy and
//     webhook/admission;
//  2. the scrape path: the local control plane's components scraped as Prometheus does, through
//     the real haproxy on render's config (and variants) and directly, at a normal and a stressed
//     load, with haproxy's memory and CPU; in a network namespace of its own (this program again,
//     under `unshare --net`, with -scrape-child), so the components' fixed ports collide with
//     nothing on the machine;
//  3. the webhook server over HTTPS, loaded by a separate process (e2e/bench/loadgen): throughput
//     at saturation and latency at a fixed rate, of a no-op handler (the floor), DaemonSet
//     injection and ConfigMap validation, all on one server (e2e/bench/server);
//  4. DaemonSet creates end to end through a local kube-apiserver: no admission, our mutating
//     webhook, an equivalent MutatingAdmissionPolicy, our webhooks as deploy/base installs them
//     (the full path) and the native pair (the MutatingAdmissionPolicy and a
//     ValidatingAdmissionPolicy), with where the time goes from kube-apiserver's and serve's
//     histograms;
//  5. the resident memory of `metrics-proxy serve`, idle and under the load of part 3.
//
// Every part is bounded in count and time, all traffic stays on loopback, and a part that fails
// is reported as such while the others still run.
package main
