//go:build unix

package python

import (
	"errors"
	"syscall"
)

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o600) }

// kill9 kills a process at once.
func kill9(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// exists reports whether a process is there.
func exists(pid int) bool { return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }
