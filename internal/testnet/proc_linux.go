package testnet

import "syscall"

// sysProcAttr puts a process in a group of its own and has the kernel kill
// it when the runner dies (even by SIGKILL), so that no process outlives
// it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
