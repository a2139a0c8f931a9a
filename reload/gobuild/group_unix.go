//go:build unix

package gobuild

import (
	"os/exec"
	"syscall"
)

// interruptible runs cmd in a process group of its own that dies with this
// process, and has cancelling it interrupt the whole group: the go command
// then removes its work directory, and the compiler and linker stop too.
func interruptible(cmd *exec.Cmd) {
	cmd.SysProcAttr = groupAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
}

// killGroup kills whatever is left of process group pid.
func killGroup(pid int) { syscall.Kill(-pid, syscall.SIGKILL) }
