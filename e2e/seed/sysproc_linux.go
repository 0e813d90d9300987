package seed

import "syscall"

// childAttr puts a child in its own process group and has the kernel kill it when this process
// dies, so that no component outlives the scenario and holds the component ports.
func childAttr(a *syscall.SysProcAttr) {
	a.Setpgid = true
	a.Pdeathsig = syscall.SIGKILL
}
