//go:build linux

package cluster

import "syscall"

type statT = syscall.Stat_t

func stat(path string, st *statT) error { return syscall.Stat(path, st) }

// childAttr: own process group (a Ctrl-C reaches the test only, which stops everything in
// order) and killed by the kernel when the test process dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
