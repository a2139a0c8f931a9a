//go:build !unix

package gobuild

import "os/exec"

func interruptible(cmd *exec.Cmd) {}
func killGroup(pid int)           {}
