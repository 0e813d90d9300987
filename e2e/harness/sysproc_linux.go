package harness

import "syscall"

// childAttr puts a child in its own process group and has the kernel kill it with this process.
func childAttr(a *syscall.SysProcAttr) {
	a.Setpgid = true
	a.Pdeathsig = syscall.SIGKILL
}
