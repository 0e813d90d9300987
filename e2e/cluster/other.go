//go:build !linux

package cluster

import (
	"context"
	"errors"
	"io"
)

// errLinux is what every entry point returns off Linux: nodes are Linux network and mount
// namespaces.
var errLinux = errors.New("real nodes need Linux (network and mount namespaces, cgroups)")

// Options configure Up.
type Options struct {
	Workers int
	Bin     string
	Dir     string
	Images  []string
	Out     io.Writer
}

// Cluster is a running cluster of real nodes (Linux only).
type Cluster struct {
	Kubeconfig string
}

// Requirements says what this machine lacks: Linux.
func Requirements(string) string { return errLinux.Error() }

// Up fails off Linux.
func Up(context.Context, Options) (*Cluster, error) { return nil, errLinux }

// Down does nothing off Linux.
func (c *Cluster) Down() error { return nil }

// SeedReport is what RunSeed observed.
type SeedReport struct{}

// RunSeed fails off Linux.
func (c *Cluster) RunSeed(context.Context, io.Writer) (*SeedReport, error) { return nil, errLinux }
