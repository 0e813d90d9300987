package main

import "syscall"

// childAttrs ends a server with the benchmark: if the benchmark dies, the kernel kills it.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
