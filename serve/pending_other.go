//go:build !linux

package serve

import "net"

// pending cannot tell here (only Linux is asked): a connection on which
// no request has begun is taken for a spare one.
func pending(c net.Conn) bool { return false }
