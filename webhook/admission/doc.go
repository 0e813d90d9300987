// Package admission adapts the pure cores (inject and policy) to controller-runtime's admission
// webhooks: one handler per object and verb, a decision counter and a log line per decision, and
// the registration of every handler on a webhook server. Handlers are a few dozen lines: decode
// nothing they need not, call the core, turn its answer into a response. The server that runs
// them is assembled in package server.
package admission
