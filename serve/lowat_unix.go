//go:build linux || darwin

package serve

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// limitUnsent makes c writable again as soon as less than n of what was
// written is still unsent, rather than once a third of a send buffer the
// kernel may have grown to megabytes is free: a client that reads slowly
// but steadily then lets each write through in time, and the write
// timeout is left to clients that read nothing.
func limitUnsent(c net.Conn, n int) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, n)
	})
}
