package serve

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// ParsePort reads a port as a person writes one: decimal digits, from 0
// (any free port) to 65535. Go's own number syntax (0x1F40, 8_000) is
// refused: no one means it for a port.
func ParsePort(s string) (int, error) {
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, errors.New("want a whole number")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 65535 {
		return 0, errors.New("a port is a number from 1 to 65535 (0 picks a free one)")
	}
	return n, nil
}

// CheckHost rejects what cannot be an address to listen on, before any
// bind: an IP address or a host name is taken, "bad host" or the
// mistyped address 300.1.1.1 is not.
func CheckHost(host string) error {
	if net.ParseIP(host) == nil && !validHostname(host) {
		return errors.New("give an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name")
	}
	return nil
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	allDigits := true
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				allDigits = false
			default:
				return false
			}
		}
	}
	return !allDigits // "300.1.1.1" is a mistyped IP address, not a name
}

// Listen binds host:port, turning the common failures into advice that
// names the program's own flags (portFlag: "--port" or "-port"): a port in
// use gets the next free one to try.
func Listen(host string, port int, portFlag, hostFlag string) (net.Listener, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case errors.Is(err, syscall.EADDRINUSE):
		msg := fmt.Sprintf("port %d is in use", port)
		if free := freePortAfter(host, port); free != 0 {
			msg += fmt.Sprintf("; try %s %d", portFlag, free)
		}
		return nil, errors.New(msg)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("port %d needs privileges this user lacks; use a port above 1023, such as %s 8000", port, portFlag)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("cannot listen on %s: that address does not belong to this machine; try %s 127.0.0.1", host, hostFlag)
	}
	return nil, fmt.Errorf("listen on %s: %w", addr, err)
}

// freePortAfter returns the first port after port that host can bind, or 0.
func freePortAfter(host string, port int) int {
	for p := port + 1; p <= port+20 && p <= 65535; p++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err == nil {
			ln.Close()
			return p
		}
	}
	return 0
}

// ParseMount reads a mount, PREFIX=APP, into its prefix and app name. The
// prefix's own rules are the Dispatcher's.
func ParseMount(v string) (prefix, app string, err error) {
	prefix, app, ok := strings.Cut(v, "=")
	if !ok || prefix == "" || app == "" {
		return "", "", errors.New("want PREFIX=APP, such as /blog=blog")
	}
	return prefix, app, nil
}
