package serve

import (
	"net"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultWriteTimeout is how long a write to a client may wait for the
// client to take bytes, unless told otherwise (see [Run]'s WriteTimeout).
// nginx's send_timeout has the same meaning.
const DefaultWriteTimeout = 30 * time.Second

// idleWriteListener gives each connection it accepts a write deadline that
// moves with every write: see idleWriteConn.
type idleWriteListener struct {
	net.Listener
	timeout time.Duration
}

// writePiece is the most an idleWriteConn writes under one deadline, and
// the unsent bytes past which its connection stops taking more: a write
// must make this much progress within the write timeout, so that a client
// that takes a response at 1.5 KB a second (at the default timeout) is not
// cut, however large the app's chunks.
const writePiece = 32 << 10

func (l idleWriteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	limitUnsent(c, writePiece)
	return &idleWriteConn{Conn: c, timeout: l.timeout}, nil
}

// An idleWriteConn fails a write that waits more than its timeout for the
// client to take bytes. net/http's WriteTimeout bounds a whole response
// instead, which a stream outlives; without any, a client that stops
// reading holds the handler, and the Python thread or database
// connection behind it, for as long as it likes.
//
// The deadline moves only when a quarter of the timeout has passed since
// it was last set, so that a write costs a clock read and not a timer
// update, and it moves for each writePiece of a larger write: a write that
// cannot go through fails after between three quarters of the timeout and
// all of it, while one that goes through slowly is not cut.
type idleWriteConn struct {
	net.Conn
	timeout time.Duration
	set     atomic.Int64 // when the deadline was last set, in Unix nanoseconds
}

func (c *idleWriteConn) Write(p []byte) (int, error) {
	written := 0
	for {
		piece := p[written:]
		if len(piece) > writePiece {
			piece = piece[:writePiece]
		}
		c.moveDeadline()
		n, err := c.Conn.Write(piece)
		written += n
		if err != nil || written == len(p) {
			return written, err
		}
	}
}

// moveDeadline sets the write deadline a timeout from now, once a quarter
// of it has passed since it was last set.
func (c *idleWriteConn) moveDeadline() {
	now := time.Now()
	if now.UnixNano()-c.set.Load() > int64(c.timeout/4) {
		c.set.Store(now.UnixNano())
		c.Conn.SetWriteDeadline(now.Add(c.timeout))
	}
}

// CloseWrite lets net/http half-close the connection after a last response,
// as it does a *net.TCPConn's, so that the client reads it before the close.
func (c *idleWriteConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// SyscallConn is the connection's descriptor, for pending.
func (c *idleWriteConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, syscall.EINVAL
	}
	return sc.SyscallConn()
}
