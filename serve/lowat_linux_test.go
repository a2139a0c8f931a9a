package serve

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestAcceptedConnectionsLimitUnsent: a connection the write timeout
// watches takes no more than writePiece unsent bytes before it blocks, so
// that a steady reader frees room in time, whatever size the kernel grew
// the send buffer to.
func TestAcceptedConnectionsLimitUnsent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := (idleWriteListener{Listener: ln, timeout: time.Second}).Accept(); err == nil {
			accepted <- c
		}
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c := <-accepted
	defer c.Close()
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
