//go:build unix && !linux

package gobuild

import "syscall"

// groupAttr puts a build in its own process group.
func groupAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
