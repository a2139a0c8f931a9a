package serve

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestAcceptedConnectionsLimitUnsent: a connection the write timeout
// watches takes no more than writePiece unsent bytes before it blocks, so
// that a steady reader frees room in time, whatever size the kernel grew
// the send buffer to.
func TestAcceptedConnectionsLimitUnsent(t *testing.T) {
	c, _ := acceptOne(t)
	rc, err := c.(*idleWriteConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var got int
	rc.Control(func(fd uintptr) { got, err = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT) })
	if err != nil || got != writePiece {
		t.Errorf("TCP_NOTSENT_LOWAT = %d, %v; want %d", got, err, writePiece)
	}
}
