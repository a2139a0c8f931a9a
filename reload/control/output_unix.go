//go:build unix

package control

import "golang.org/x/sys/unix"

// redirectOutput points standard output and error at fd, and closes fd.
func redirectOutput(fd int) {
	if unix.Dup2(fd, 1) == nil && unix.Dup2(fd, 2) == nil {
		unix.Close(fd)
	}
}
