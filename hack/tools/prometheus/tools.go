//go:build tools

// Package tools pins the Prometheus server command this module builds.
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
