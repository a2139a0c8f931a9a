//go:build unix && !linux

package python

import "syscall"

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
