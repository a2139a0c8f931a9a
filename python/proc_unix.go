//go:build unix

package python

import (
	"net"
	"os"
	"syscall"
)

// socketPairs returns n connected Unix socket pairs: this process's ends
// as connections, and the worker's ends as files for exec.Cmd.ExtraFiles.
// Every descriptor is close-on-exec, so a worker inherits only the ends
// ExtraFiles gives it: another worker holding one would keep a dead
// worker's channel open, and its death would never read as the end.
func socketPairs(n int) (parents []net.Conn, children []*os.File, err error) {
	defer func() {
		if err != nil {
			closeConns(parents)
			closeFiles(children)
			parents, children = nil, nil
		}
	}()
	for range n {
		fds, err := socketpair()
		if err != nil {
			return parents, children, err
		}
		children = append(children, os.NewFile(uintptr(fds[1]), "wsgo-worker-channel"))
		f := os.NewFile(uintptr(fds[0]), "wsgo-channel")
		conn, err := net.FileConn(f) // a close-on-exec duplicate, in the poller
		f.Close()
		if err != nil {
			return parents, children, err
		}
		parents = append(parents, conn)
	}
	return parents, children, nil
}

// killGroup kills the worker's process group, which it leads.
func killGroup(pid int) {
	if pid > 0 {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
}
