//go:build unix && !linux

package reload

import "syscall"

// procAttr puts a server in its own process group. Only Linux can have the
// kernel kill it when the supervisor dies; elsewhere a supervisor killed by
// SIGKILL leaves its server running until the server notices.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
