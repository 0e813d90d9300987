// Package e2e holds the end-to-end tests: the demo run to its end and interrupted; the seed
// scenario joins them. The local control plane they share lives in e2e/harness.
package e2e
