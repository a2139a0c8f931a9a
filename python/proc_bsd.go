//go:build unix && !linux

package python

import (
	"syscall"
	"time"
)

// socketpair creates a pair with both ends close-on-exec; the fork lock
// keeps a child started meanwhile from inheriting them.
func socketpair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	return fds, err
}

// sysProcAttr puts a worker in a process group of its own, which stopping
// it kills whole. A worker also exits when its control channel ends, which
// it does when this process dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitPid returns once the process pid, not this process's child, has
// exited, looking every tenth of a second.
func waitPid(pid int) {
	for syscall.Kill(pid, 0) != syscall.ESRCH {
		time.Sleep(100 * time.Millisecond)
	}
}
