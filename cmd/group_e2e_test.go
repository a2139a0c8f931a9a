//go:build unix

package cmd

import (
	"os/exec"
	"syscall"
	"testing"

	"github.com/wsgo/wsgo/internal/syncbuf"
)

// startGroup starts c in a process group of its own, which the test's end
// kills whole; the channel closes when c has exited. When the test failed,
// it shows what c wrote to log, as what.
func startGroup(t *testing.T, c *exec.Cmd, log *syncbuf.Buffer, what string) <-chan struct{} {
	t.Helper()
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { c.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("%s:\n%s", what, log)
		}
	})
	return exited
}
