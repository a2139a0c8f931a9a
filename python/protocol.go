package python

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/wsgo/wsgo/wsgi"
)

// ProtocolVersion is the version of the worker channel's protocol, which
// this package's Go side and its embedded worker.py speak. A worker says
// its version first, and the Go side refuses any other: change both halves
// together, and this number with them. docs/python.md specifies the protocol.
const ProtocolVersion = 1

// A frame is a 4-byte big-endian payload length, a 1-byte kind, and the
// payload. Kinds are ASCII letters, upper case from Go, lower case from the
// worker, so that a dump of the channel reads.
const (
	headerSize = 5
	maxFrame   = 16 << 20 // the largest payload either side sends
	inputBlock = 1 << 20  // the most a worker reads of a request body at once
)

// Frames from Go to a worker.
const (
	frameRequest    byte = 'R' // an environ's string keys: key NUL value NUL …
	frameInput      byte = 'I' // request body bytes; more may follow
	frameInputEnd   byte = 'J' // the last request body bytes, possibly none
	frameInputError byte = 'K' // reading the request body failed: why
	frameStop       byte = 'Q' // the client is gone: stop the body, close it
)

// Frames from a worker to Go.
const (
	frameHello     byte = 'h' // the worker's protocol version, 2 bytes
	frameReady     byte = 'y' // the app is loaded: JSON, readyInfo
	frameLoadError byte = 'l' // the app cannot be loaded: JSON, loadFailure
	frameStart     byte = 's' // start_response: a flag byte, then NUL-separated fields
	frameChunk     byte = 'c' // body bytes the app yielded
	frameWrite     byte = 'w' // bytes the app gave write()
	frameRead      byte = 'r' // wsgi.input wants up to N bytes: 4 bytes
	frameErrors    byte = 'e' // text the app wrote to wsgi.errors
	frameDone      byte = 'd' // the response is complete; close() was called
	frameException byte = 'x' // the app raised; close() was called: JSON, exceptionInfo
)

// errProtocol is a frame this side cannot make sense of.
var errProtocol = errors.New("python worker protocol error")

func protocolErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errProtocol}, args...)...)
}

// appendHeader appends a frame's header to b.
func appendHeader(b []byte, kind byte, n int) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(n)), kind)
}

// readFrame reads one frame. The payload is newly allocated: a chunk is
// yielded to the gateway, which owns it from then on.
func readFrame(r *bufio.Reader) (kind byte, payload []byte, err error) {
	head, err := r.Peek(headerSize)
	if err != nil {
		if err == io.EOF && r.Buffered() > 0 {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(head)
	kind = head[4]
	r.Discard(headerSize)
	if n > maxFrame {
		return 0, nil, protocolErrorf("a frame of %d bytes is larger than %d", n, maxFrame)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return kind, payload, nil
}

// appendEnviron appends the payload of a request frame: every string value
// of env, key and value each followed by NUL. A key or value that holds a
// NUL cannot be sent and is left out: no CGI value can hold one, as the
// gateway refuses such requests.
func appendEnviron(b []byte, env wsgi.Environ) []byte {
	for k, v := range env {
		s, ok := v.(string)
		if !ok || strings.IndexByte(k, 0) >= 0 || strings.IndexByte(s, 0) >= 0 {
			continue
		}
		b = append(b, k...)
		b = append(b, 0)
		b = append(b, s...)
		b = append(b, 0)
	}
	return b
}

// startCall is a start_response the app made.
type startCall struct {
	status  string
	headers wsgi.Headers
	exc     error // set when the app passed exc_info
}

// decodeStart decodes a start frame: a flag byte (1 when the app passed
// exc_info, whose "Type: message" is then the first field), the status,
// then each header's name and value; fields are separated by NUL.
func decodeStart(p []byte) (startCall, error) {
	if len(p) == 0 || p[0] > 1 {
		return startCall{}, protocolErrorf("a start frame must begin with a flag byte of 0 or 1")
	}
	fields := strings.Split(string(p[1:]), "\x00")
	var call startCall
	if p[0] == 1 {
		if len(fields) < 2 {
			return startCall{}, protocolErrorf("a start frame with exc_info has no status")
		}
		typ, msg, _ := strings.Cut(fields[0], ": ")
		call.exc = &Exception{Type: typ, Message: msg}
		fields = fields[1:]
	}
	if len(fields)%2 != 1 {
		return startCall{}, protocolErrorf("a start frame has a header name without a value")
	}
	call.status = fields[0]
	call.headers = make(wsgi.Headers, 0, len(fields)/2)
	for i := 1; i < len(fields); i += 2 {
		call.headers = append(call.headers, wsgi.Header{Name: fields[i], Value: fields[i+1]})
	}
	return call, nil
}

// decodeRead decodes a read frame: how many body bytes the app wants,
// bounded by inputBlock.
func decodeRead(p []byte) (int, error) {
	if len(p) != 4 {
		return 0, protocolErrorf("a read frame holds 4 bytes, not %d", len(p))
	}
	return int(min(binary.BigEndian.Uint32(p), inputBlock)), nil
}

// decodeHello decodes the worker's first frame, and refuses a version other
// than this package's.
func decodeHello(kind byte, p []byte) error {
	if kind != frameHello || len(p) != 2 {
		return protocolErrorf("the worker's first frame is not its hello (kind %q, %d bytes)", kind, len(p))
	}
	if v := binary.BigEndian.Uint16(p); v != ProtocolVersion {
		return fmt.Errorf("the Python worker speaks protocol version %d and this wsgo speaks %d: the worker script does not come from this build of wsgo; reinstall wsgo", v, ProtocolVersion)
	}
	return nil
}

// exceptionInfo is an exception frame's JSON, as worker.py's
// describe_exception writes it.
type exceptionInfo struct {
	Type    string      `json:"type"`
	Message string      `json:"message"`
	Text    string      `json:"text"`
	Frames  []frameInfo `json:"frames"` // outermost first, as Python prints them
	Syntax  *struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Text    string `json:"text"`
		Message string `json:"message"`
	} `json:"syntax"`
}

type frameInfo struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Function string `json:"function"`
	Source   string `json:"source"`
	User     bool   `json:"user"`
}

// decodeException decodes an exception frame into an [*Exception].
func decodeException(p []byte) (*Exception, error) {
	var info exceptionInfo
	if err := json.Unmarshal(p, &info); err != nil {
		return nil, protocolErrorf("an exception frame is not JSON: %v", err)
	}
	return info.exception(), nil
}

func (info *exceptionInfo) exception() *Exception {
	e := &Exception{Type: info.Type, Message: info.Message, Traceback: info.Text}
	for i := len(info.Frames) - 1; i >= 0; i-- {
		f := info.Frames[i]
		e.Frames = append(e.Frames, wsgi.Frame{Function: f.Function, File: f.File, Line: f.Line, Source: f.Source, User: f.User})
	}
	if s := info.Syntax; s != nil {
		e.Syntax = &SyntaxPosition{File: s.File, Line: s.Line, Column: s.Column, Text: s.Text, Message: s.Message}
	}
	return e
}

// readyInfo is a ready frame's JSON, as worker.py's describe_app writes it.
type readyInfo struct {
	PID    int     `json:"pid"`
	Python string  `json:"python"`
	Kind   string  `json:"kind"`
	Routes []Route `json:"routes"`
}

// loadFailure is a load error frame's JSON, as worker.py's LoadFailure
// describes itself.
type loadFailure struct {
	Kind      string         `json:"kind"`
	Message   string         `json:"message"`
	Exception *exceptionInfo `json:"exception"`
}
