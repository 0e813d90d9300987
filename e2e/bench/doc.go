// Package bench holds what `make bench` shares between its programs: latency summaries, the
// result a load generator run reports, resident memory readings, the parser of `go test -bench`
// output, the targets and the report written to docs/benchmarks.md.
//
// The programs: run (the driver behind `make bench`), server (the webhook server under load:
// `metrics-proxy serve` plus a no-op path, the floor) and loadgen (the load, a separate process).
package bench
