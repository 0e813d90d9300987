// Package testtool finds the external tools that tests need (haproxy, the control-plane binaries).
// Outside CI a missing tool skips the test; in CI (CI set) it fails it, because .ci/run installs
// every tool the tests need.
package testtool
