//go:build !linux

package harness

import "syscall"

// childAttr puts a child in its own process group; only Linux also kills it with this process.
func childAttr(a *syscall.SysProcAttr) { a.Setpgid = true }
