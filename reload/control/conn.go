package control

import (
	"fmt"
	"io"
)

// Hello is what a supervisor tells a server as it starts.
type Hello struct {
	BuildID string // unique to this start, so that pages can tell servers apart
	Color   bool   // whether the supervisor colours its output
	Problem string // for an error-page server: what to show on every request
}

// An Event is what a server told its supervisor.
type Event struct {
	Kind EventKind
	// Refusal is why the server will not serve: it speaks another version
	// of the protocol (Hello), or cannot serve what it was asked (Refused).
	Refusal string
	CutOff  []string // Stopped: the requests cut short, as "GET /path"
}

// EventKind tells what an Event is.
type EventKind int

const (
	Greeted EventKind = iota + 1 // the server's hello, in the same version
	Ready                        // the server serves
	Refused                      // the server will not serve; see Event.Refusal
	Stopped                      // the server is about to exit
)

// Conn is a supervisor's end of the line to one server.
type Conn struct{ l *jsonLines }

// NewConn returns the supervisor's end of a line on rw.
func NewConn(rw io.ReadWriter) *Conn { return &Conn{l: newJSONLines(rw)} }

// Hello greets the server; it is the first thing a supervisor says.
func (c *Conn) Hello(h Hello) error {
	return c.l.send(wire{Type: typeHello, Protocol: Protocol, BuildID: h.BuildID, Color: h.Color, Failure: h.Problem})
}

// Send asks m of the server.
func (c *Conn) Send(m Message) error {
	if _, ok := messageNames[m]; !ok {
		return fmt.Errorf("control: no such message: %v", m)
	}
	return c.l.send(wire{Type: m.String()})
}

// Next reads what the server says next, skipping what this version does not
// know. A hello in another version, or one that refuses, is a Refused event.
func (c *Conn) Next() (Event, error) {
	for {
		m, err := c.l.receive()
		if err != nil {
			return Event{}, err
		}
		switch m.Type {
		case typeHello:
			if m.Error != "" || m.Protocol != Protocol {
				why := m.Error
				if why == "" {
					why = Mismatch(Protocol, m.Protocol)
				}
				return Event{Kind: Refused, Refusal: why}, nil
			}
			return Event{Kind: Greeted}, nil
		case typeReady:
			return Event{Kind: Ready}, nil
		case typeRefused:
			return Event{Kind: Refused, Refusal: m.Error}, nil
		case typeStopped:
			return Event{Kind: Stopped, CutOff: m.CutOff}, nil
		}
	}
}
