// Package e2e holds the end-to-end tests: the seed procedure executed for real (package
// e2e/seed: a local control plane with kube-controller-manager and kube-scheduler, two nodes,
// the injected proxy run by the real haproxy, scrapes with service-account tokens), once to its
// end and once broken late to prove everything stops; and `make demo`'s program, run to its end
// and interrupted. The local control plane they share lives in e2e/harness.
package e2e
