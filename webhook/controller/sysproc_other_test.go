//go:build !linux

package controller_test

import "syscall"

// childAttr puts a child in its own process group.
func childAttr(a *syscall.SysProcAttr) { a.Setpgid = true }
