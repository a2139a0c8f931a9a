//go:build !linux && !darwin

package serve

import "net"

// limitUnsent cannot be asked here: the write timeout then bounds each
// write as the kernel's send buffer lets it through.
func limitUnsent(c net.Conn, n int) {}
