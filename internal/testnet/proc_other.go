//go:build unix && !linux

package testnet

import "syscall"

// sysProcAttr puts a process in a group of its own (outside Linux there is
// no parent-death signal: a runner killed by SIGKILL leaves its processes).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
