//go:build !linux

package dataplane

import "syscall"

// sysProcAttr has nothing to add outside Linux.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// soReusePort is 0 outside Linux: upstreams do not set SO_REUSEPORT there.
const soReusePort = 0
