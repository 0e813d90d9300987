// Package server is the composition root of `metrics-proxy serve`: it assembles the
// controller-runtime manager (the webhook server with every admission handler registered, the
// metrics server, /healthz and /readyz), the serving certificate source, the policy file watcher
// and the API server probe behind /readyz. The webhook server is bounded for hostile clients: TLS
// 1.2 with AEAD suites or 1.3, HTTP/1.1 only, read and write deadlines, a cap on body size and
// on reviews in flight, optional client-certificate verification. Runnables that every replica
// needs run whether or not the replica leads. The admission handlers live in webhook/admission.
package server
