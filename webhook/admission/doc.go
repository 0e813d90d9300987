// Package admission adapts the pure cores (inject, policy) to controller-runtime's admission
// webhooks: one handler per object and verb, and for every decision, mutating or validating, one
// count in metrics_proxy_admission_decisions_total and one log line. Handlers are a few dozen
// lines: refuse a review the API server would never send, refuse objects no proxy needs before
// decoding them, decode nothing they need not, bound every lookup well inside the webhook
// timeout, call the core, turn its answer into a response (a bounded one). The server that runs
// them is assembled in package server.
package admission
