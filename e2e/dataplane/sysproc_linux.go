package dataplane

import "syscall"

// sysProcAttr makes the kernel kill haproxy when the test process dies, so that no proxy
// outlives its test and holds the component ports.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// soReusePort is SO_REUSEPORT, which package syscall does not define on Linux.
const soReusePort = 0xf
