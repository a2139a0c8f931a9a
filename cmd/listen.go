package cmd

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// checkAddr rejects a host or port that cannot be right, before any bind.
func checkAddr(host string, port int) error {
	if port < 0 || port > 65535 {
		return invalidValue("port", strconv.Itoa(port), "a port is a number from 1 to 65535 (0 picks a free one)")
	}
	if net.ParseIP(host) == nil && !validHostname(host) {
		return invalidValue("host", strconv.Quote(host), "give an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name")
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

// listen binds host:port, turning the common failures into advice.
func listen(host string, port int) (net.Listener, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	switch {
	case err == nil:
		return ln, nil
	case errors.Is(err, syscall.EADDRINUSE):
		msg := fmt.Sprintf("port %d is in use", port)
		if free := freePortAfter(host, port); free != 0 {
			msg += fmt.Sprintf("; try --port %d", free)
		}
		return nil, errors.New(msg)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("port %d needs privileges this user lacks; use a port above 1023, such as --port 8000", port)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("cannot listen on %s: that address does not belong to this machine; try --host 127.0.0.1", host)
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

// portValue is a flag holding a port, written in decimal only: pflag's own
// int takes 0x50 or 1_000 for numbers, which no one means for a port.
type portValue int

func (p *portValue) String() string { return strconv.Itoa(int(*p)) }
func (p *portValue) Type() string   { return "int" }

func (p *portValue) Set(s string) error {
	for _, c := range s {
		if c < '0' || c > '9' {
			return strconv.ErrSyntax
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return err
	}
	*p = portValue(n)
	return nil
}
