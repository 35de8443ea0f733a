package devserver

import "syscall"

// setParentDeathSignal has the kernel stop the dev server when drover dies
// without stopping it (killed, or a test binary that timed out), so that
// no orphaned server keeps holding its ports.
func setParentDeathSignal(a *syscall.SysProcAttr) {
	a.Pdeathsig = syscall.SIGTERM
}
