//go:build !linux

package main

import "syscall"

// childAttrs: no parent-death signal outside Linux (the benchmark reads /proc: Linux only).
func childAttrs() *syscall.SysProcAttr { return nil }
