// Package docs runs the README's examples: every fenced block is marked with what it is, and the
// test runs each as marked, so that an example that breaks fails the build.
//
// A block is preceded, on the line just before its opening fence, by one marker:
//
//	<!-- docs-test: cli -->             run with bash; metrics-proxy on PATH, no cluster
//	<!-- docs-test: cli exit=1 -->      the same, and the block must exit 1
//	<!-- docs-test: install -->         run against a local control plane without the webhook
//	                                    server (kubectl apply -k of deploy/, uninstall)
//	<!-- docs-test: cluster -->         run against a local control plane with the webhook
//	                                    server (proxies through the webhook, explain, audit)
//	<!-- docs-test: file NAME -->       the block is written to NAME for the blocks after it
//	<!-- docs-test: skip REASON -->     not run; the test logs REASON, which must not be empty
//
// Blocks run in the README's order, in one scratch directory holding a copy of deploy/ (so
// that the README's relative paths work and nothing is written into the repository).
package docs
