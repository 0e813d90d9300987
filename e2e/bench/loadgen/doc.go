// Command loadgen sends AdmissionReviews to a webhook server over HTTPS with keep-alive and
// reports throughput and latency, every sample included, as JSON (bench.LoadResult) on its
// standard output. It is the
// load of `make bench`, run as its own process so that it never shares a Go runtime with the
// server it measures. It sends only to loopback addresses.
//
//	loadgen -url https://127.0.0.1:9443/mutate-apps-v1-daemonset -ca ca.crt -body review.json \
//	  -mode closed -connections 16 -duration 5s
//	loadgen ... -mode open -rate 500 -duration 10s
package main
