// Package dataplane runs the real HAProxy on a config and proves what it lets through: test
// support for the policy corpus and other data-plane tests.
//
// A Harness takes an exclusive lock on the product's fixed component ports (LockPorts: a flock
// on LockFileName in os.TempDir(), because go test runs packages in parallel) and starts a test
// upstream per component on 127.0.0.1 at the component's port: plain HTTP on 10249 and 2381,
// HTTPS with an in-process self-signed certificate on 10257 and 10259. Each upstream records
// every request (method, request target as received, headers) and answers 200 with
// "upstream NAME saw URI". Harness.StartHAProxy runs the distribution's haproxy in the
// foreground with NODE_IP on another loopback address (DefaultNodeIP, 127.0.0.2), waits until
// its frontends accept connections and fails the test with haproxy's output otherwise.
//
// Harness.Probe sends a request with "Authorization: Bearer test-token" and returns an Outcome:
// the response and what the upstreams received meanwhile; Outcome.Leak says how it breaks the
// contract of a compliant proxy (a path other than /metrics upstream, another upstream, another
// address, a rewritten method or Authorization header, an X-Remote-* header, or HAProxy
// answering 2xx/3xx by itself). Harness.Pipeline and Harness.ProbeH2 do the same with pipelined
// HTTP/1.1 requests and cleartext HTTP/2.
//
// Raw and Send write requests byte for byte over TCP, unlike net/http, which would clean
// "//metrics" or "/metrics/../configz" and refuse absolute-form targets. Every wait is bounded
// and traffic goes to loopback addresses only. When haproxy is not installed, the test is
// skipped outside CI and fails in CI (testtool.Missing).
package dataplane
