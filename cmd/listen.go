package cmd

import (
	"net"
	"strconv"
	"strings"

	"github.com/wsgo/wsgo/serve"
)

// checkAddr rejects a host or port that cannot be right, before any bind.
func checkAddr(host string, port int) error {
	if _, err := serve.ParsePort(strconv.Itoa(port)); err != nil {
		return invalidValue("port", strconv.Itoa(port), err.Error())
	}
	if err := serve.CheckHost(host); err != nil {
		return invalidValue("host", strconv.Quote(host), err.Error())
	}
	return nil
}

// listen binds host:port, turning the common failures into advice.
func listen(host string, port int) (net.Listener, error) {
	return serve.Listen(host, port, "--port", "--host")
}

// portValue is a flag holding a port, as serve.ParsePort reads one.
type portValue int

func (p *portValue) String() string { return strconv.Itoa(int(*p)) }
func (p *portValue) Type() string   { return "int" }

func (p *portValue) Set(s string) error {
	n, err := serve.ParsePort(s)
	if err != nil {
		shown := s
		if s == "" || strings.Trim(s, "0123456789") != "" {
			shown = strconv.Quote(s)
		}
		return &flagWhy{shown: shown, err: err}
	}
	*p = portValue(n)
	return nil
}
