// Package control is the line between a supervisor and each server process
// it starts: the socket they share, the environment a server finds, and the
// messages each way. It holds both halves, so that one package defines every
// message and parses it: a server calls [Attach] and gets a [Child]; a
// supervisor talks to each server through a [Conn].
//
// The specification, for a server written in any language, is
// docs/protocol.md. Production programs link this package alone, never the
// supervisor's watcher or builders; it imports nothing of wsgo's.
package control

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Protocol is the version of the messages a supervisor and its servers
// exchange. Both sides say theirs first; a server built against another
// version refuses to serve, and the supervisor says which versions met.
const Protocol = 1

// The environment a supervisor gives each server process, besides the
// LISTEN_FDS convention for the socket.
const (
	// EnvControlFD names the descriptor of the server's line to its
	// supervisor: a Unix socket carrying one JSON message a line.
	EnvControlFD = "WSGO_CONTROL_FD"
	// EnvProtocol is the supervisor's Protocol, so that a server can refuse
	// a supervisor it cannot speak to before it serves anything.
	EnvProtocol = "WSGO_PROTOCOL"
	// EnvOutputFD names a descriptor for the supervisor's own standard
	// error. Until it is ready a server writes to a pipe, so that the
	// supervisor can show a crash at start on the error page; once ready,
	// it writes here directly, so that a stopped supervisor (Ctrl-Z)
	// cannot stall it.
	EnvOutputFD = "WSGO_OUTPUT_FD"
)

// The descriptors a supervisor passes: the listening socket first, under
// the LISTEN_FDS convention (sd_listen_fds(3)), then the line, then the
// supervisor's standard error.
const (
	ListenFD  = 3
	ControlFD = 4
	OutputFD  = 5
)

// A Message is what a supervisor asks of a running server.
type Message int

const (
	// Handover asks the server to stop accepting, move its keep-alive
	// clients to the next server on the same socket, finish and exit.
	Handover Message = iota + 1
	// Stop asks the server to finish the requests in flight and exit.
	Stop
	// ReloadPages asks the server to tell the browsers it served to reload.
	ReloadPages
	// StopNow, during a stop or a hand-over, asks the server to cut the
	// requests still in flight short and exit: the user asked twice.
	StopNow
	// ReloadStyles asks the server to tell the browsers to fetch their
	// stylesheets again, in place, without reloading the pages.
	ReloadStyles
)

var messageNames = map[Message]string{Handover: "handover", Stop: "stop", ReloadPages: "reload-pages", StopNow: "stop-now", ReloadStyles: "reload-styles"}

func (m Message) String() string {
	if s, ok := messageNames[m]; ok {
		return s
	}
	return fmt.Sprintf("Message(%d)", int(m))
}

// wire is one line of the protocol, in either direction.
type wire struct {
	Type     string   `json:"type"`
	Protocol int      `json:"protocol,omitempty"` // hello
	BuildID  string   `json:"build,omitempty"`    // hello, to the server
	Color    bool     `json:"color,omitempty"`    // hello, to the server
	Failure  string   `json:"failure,omitempty"`  // hello, to an error-page server
	CutOff   []string `json:"cut_off,omitempty"`  // stopped: requests cut short
	Error    string   `json:"error,omitempty"`    // hello or refused, from a server that will not serve
}

// Message types on the wire that are not a Message.
const (
	typeHello   = "hello"   // first line each way
	typeReady   = "ready"   // server → supervisor: serving
	typeStopped = "stopped" // server → supervisor: about to exit
	typeRefused = "refused" // server → supervisor: it will not serve, and why
)

// jsonLines reads and writes the protocol on one connection, one JSON
// object a line. Writes are serialized; reads belong to one goroutine.
type jsonLines struct {
	mu  sync.Mutex
	r   *bufio.Reader
	enc *json.Encoder
}

func newJSONLines(rw io.ReadWriter) *jsonLines {
	return &jsonLines{r: bufio.NewReaderSize(rw, 64<<10), enc: json.NewEncoder(rw)}
}

func (l *jsonLines) send(m wire) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.enc.Encode(m) // one line: Encode ends with "\n"
}

// receive reads the next message; unknown fields and types are the
// caller's to ignore, so that a newer peer can add to the protocol.
func (l *jsonLines) receive() (wire, error) {
	var m wire
	b, err := l.r.ReadBytes('\n')
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("control: a message that is not JSON: %q", b)
	}
	return m, nil
}

// Mismatch is the sentence a user reads when the two sides speak different
// versions of the protocol.
func Mismatch(supervisor, server int) string {
	return fmt.Sprintf("the server speaks reload protocol %d and this wsgo speaks %d: "+
		"build both from the same wsgo version (go get github.com/wsgo/wsgo@VERSION in the module, "+
		"or go install github.com/wsgo/wsgo@VERSION for the command)", server, supervisor)
}
