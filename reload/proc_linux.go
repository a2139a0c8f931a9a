package reload

import "syscall"

// procAttr puts a server in its own process group and has the kernel kill it
// if the supervisor dies, even by SIGKILL.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
