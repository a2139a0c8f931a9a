package gobuild

import "syscall"

// groupAttr puts a build in its own process group, which the kernel kills
// if wsgo dies, even by SIGKILL.
func groupAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
