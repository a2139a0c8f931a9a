package control

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// Listener returns the listening socket passed to this process under the
// LISTEN_FDS convention, by a supervisor or by systemd socket activation, or
// nil if none was passed. It unsets the variables, so that processes this one
// starts do not take the socket for theirs.
func Listener() (net.Listener, error) {
	fds := os.Getenv("LISTEN_FDS")
	if fds == "" {
		return nil, nil
	}
	if pid := os.Getenv("LISTEN_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return nil, nil // meant for another process
	}
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDNAMES")
	n, err := strconv.Atoi(fds)
	switch {
	case err != nil || n < 0:
		return nil, fmt.Errorf("control: LISTEN_FDS=%q: want the number of sockets passed", fds)
	case n == 0:
		return nil, nil // none passed
	}
	// The socket is shared, non-blocking, with every other server on it.
	// os.NewFile keeps it so: unlike a net.Listener's File, the result's Fd
	// does not switch the descriptor to blocking mode for everyone.
	f := os.NewFile(ListenFD, "listener")
	defer f.Close() // FileListener holds a duplicate
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("control: LISTEN_FDS=%s, but descriptor %d is not a listening socket (%w); start this program from systemd or wsgo, or without LISTEN_FDS", fds, ListenFD, err)
	}
	return ln, nil
}

// A Child is a server process's side of the supervisor that started it: the
// socket to serve on, what the supervisor said at start, and what it asks
// from then on.
type Child struct {
	Listener net.Listener
	BuildID  string // unique to this start, so that pages can tell servers apart
	Color    bool   // whether the supervisor colours its output
	// Problem is set in an error-page server: the build error or crash
	// to show on every request.
	Problem string
	// Messages delivers what the supervisor asks. It is closed when the
	// supervisor goes away; the server should then stop.
	Messages <-chan Message

	line   *jsonLines
	conn   net.Conn
	output int // EnvOutputFD, or -1
}

// Attach connects this process to the supervisor that started it, or
// returns nil and no error when no supervisor did. It fails when the
// supervisor speaks another version of the protocol.
func Attach() (*Child, error) {
	s, ok := os.LookupEnv(EnvControlFD)
	if !ok {
		return nil, nil
	}
	theirs, _ := strconv.Atoi(os.Getenv(EnvProtocol))
	output := -1
	if v, err := strconv.Atoi(os.Getenv(EnvOutputFD)); err == nil {
		output = v
	}
	for _, k := range []string{EnvControlFD, EnvProtocol, EnvOutputFD} {
		os.Unsetenv(k)
	}
	fd, err := strconv.Atoi(s)
	if err != nil || fd <= 2 {
		return nil, fmt.Errorf("control: %s=%q is not a descriptor a supervisor passes", EnvControlFD, s)
	}
	f := os.NewFile(uintptr(fd), "control")
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("control: control socket: %w", err)
	}
	c := &Child{conn: conn, line: newJSONLines(conn), output: output}
	hello := wire{Type: typeHello, Protocol: Protocol}
	if theirs != Protocol {
		hello.Error = Mismatch(theirs, Protocol)
		c.line.send(hello)
		conn.Close()
		return nil, errors.New(hello.Error)
	}
	if err := c.line.send(hello); err != nil {
		conn.Close()
		return nil, fmt.Errorf("control: saying hello to the supervisor: %w", err)
	}
	if err := c.greet(); err != nil {
		conn.Close()
		return nil, err
	}
	ln, err := Listener()
	if err == nil && ln == nil {
		err = errors.New("control: the supervisor passed no listening socket (LISTEN_FDS)")
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	c.Listener = ln
	msgs := make(chan Message, 4)
	c.Messages = msgs
	go c.read(msgs)
	return c, nil
}

// greet reads the supervisor's hello.
func (c *Child) greet() error {
	m, err := c.line.receive()
	if err != nil {
		return fmt.Errorf("control: reading the supervisor's hello: %w", err)
	}
	if m.Type != typeHello {
		return fmt.Errorf("control: the supervisor said %q before hello", m.Type)
	}
	c.BuildID, c.Color, c.Problem = m.BuildID, m.Color, m.Failure
	return nil
}

func (c *Child) read(msgs chan<- Message) {
	defer close(msgs)
	for {
		m, err := c.line.receive()
		if err != nil {
			return
		}
		for msg, name := range messageNames {
			if m.Type == name {
				msgs <- msg
			}
		}
	}
}

// Ready tells the supervisor that this server serves, so that it can drain
// the previous one. From then on the server writes its output straight to
// the supervisor's standard error, no longer through a pipe it reads.
func (c *Child) Ready() error {
	if err := c.line.send(wire{Type: typeReady}); err != nil {
		return fmt.Errorf("control: telling the supervisor we are ready: %w", err)
	}
	if c.output >= 0 {
		redirectOutput(c.output)
	}
	return nil
}

// Refuse tells the supervisor that this server will not serve, and why,
// for a reason no rebuild changes (a name on its command line that it does
// not know): the supervisor shows why, rather than a crash.
func (c *Child) Refuse(why string) error {
	return c.line.send(wire{Type: typeRefused, Error: why})
}

// Stopped tells the supervisor that this server is about to exit, and which
// requests it cut short (as "GET /path", for a person), if any.
func (c *Child) Stopped(cutOff []string) error {
	return c.line.send(wire{Type: typeStopped, CutOff: cutOff})
}

// Close closes the line to the supervisor.
func (c *Child) Close() error { return c.conn.Close() }
