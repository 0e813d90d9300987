// Package server is the composition root of `metrics-proxy serve`: it assembles the
// controller-runtime manager (the webhook server with every admission handler registered, the
// metrics server, /healthz and /readyz), the serving certificate source and the policy file
// watcher. Runnables that every replica needs (certificates, policy) run whether or not the
// replica leads. The admission handlers themselves live in webhook/admission.
package server
