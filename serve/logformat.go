package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/wsgo/wsgo/internal/termsafe"
	"github.com/wsgo/wsgo/wsgi"
)

// logs is where a built program writes: its own messages, the server's
// errors, the apps' failures and the access log, all in one format.
type logs struct {
	std     *log.Logger                   // the program's messages: serving, stopping, upgrading
	failure *log.Logger                   // what went wrong: at ERROR level in JSON
	errors  io.Writer                     // the http.Server's errors
	output  func(stream string) io.Writer // for what an app's own processes print on stream
	app     wsgi.Logger                   // the gateway's: failures and wsgi.errors
	access  func(*entry)
}

// newLogs writes to w in format: "text", lines for a person, or "json",
// one JSON object a line (time, level, msg and the fields of each kind of
// line) for a log pipeline.
func newLogs(format string, w io.Writer) logs {
	if format != "json" {
		std := log.New(w, "", log.LstdFlags)
		output := func(string) io.Writer { return w }
		return logs{std: std, failure: std, errors: w, output: output, app: wsgi.LogTo(std), access: func(e *entry) { textLine(std, e) }}
	}
	sl := slog.New(slog.NewJSONHandler(escapeC1{w}, nil))
	return logs{
		std:     log.New(jsonWriter{sl, slog.LevelInfo}, "", 0),
		failure: log.New(jsonWriter{sl, slog.LevelError}, "", 0),
		errors:  jsonWriter{sl, slog.LevelError},
		output: func(stream string) io.Writer {
			return &lineWriter{w: jsonWriter{sl.With("source", stream), slog.LevelInfo}}
		},
		app:    jsonLogger{sl},
		access: func(e *entry) { sl.LogAttrs(context.Background(), slog.LevelInfo, "request", e.attrs()...) },
	}
}

// textLine is an access log line for a person:
//
//	2026/01/02 15:04:05 203.0.113.7 "GET /items HTTP/1.1" 200 1234 1.2ms id=4bf92f3577b34da6
//
// The request line is quoted: it is the client's text.
func textLine(l *log.Logger, e *entry) {
	aborted := ""
	if e.aborted {
		aborted = " aborted"
	}
	// The client may be what a trusted proxy forwarded: escaped, as the rest.
	l.Printf("%s %q %d %d %.1fms id=%s%s", termsafe.Escape(e.client), e.method+" "+e.uri+" "+e.proto, e.status, e.bytes, e.ms(), e.id, aborted)
}

// escapeC1 writes JSON records with the C1 control characters and DEL
// escaped (\u009b), as the text log escapes them: encoding/json escapes
// only those below U+0020, and a terminal that shows the log takes U+009B
// for the start of a command, as it does ESC. A JSON reader gets the same
// strings back. In valid UTF-8 (a record is: the handler replaces what is
// not) the bytes C2 80 to C2 9F are those characters and nothing else,
// and outside strings JSON is ASCII.
type escapeC1 struct{ w io.Writer }

func (e escapeC1) Write(p []byte) (int, error) {
	if !bytes.ContainsFunc(p, func(r rune) bool { return r == 0x7f || r >= 0x80 && r <= 0x9f }) {
		return e.w.Write(p)
	}
	out := make([]byte, 0, len(p)+16)
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == 0x7f:
			out = append(out, `\u007f`...)
		case c == 0xc2 && i+1 < len(p) && p[i+1] >= 0x80 && p[i+1] <= 0x9f:
			out = fmt.Appendf(out, `\u00%02x`, p[i+1])
			i++
		default:
			out = append(out, c)
		}
	}
	if _, err := e.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// jsonWriter turns what is written to it into log records of one level,
// a record a write: a multi-line message stays one JSON line.
type jsonWriter struct {
	l     *slog.Logger
	level slog.Level
}

func (w jsonWriter) Write(p []byte) (int, error) {
	w.l.Log(context.Background(), w.level, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// jsonLogger is the gateway's Logger for a JSON log: a failure is one
// record with the request's id, the app, the error and the stack.
type jsonLogger struct{ l *slog.Logger }

func (j jsonLogger) Write(p []byte) (int, error) {
	j.l.Info(strings.TrimRight(string(p), "\n"), "source", "wsgi.errors")
	return len(p), nil
}

func (j jsonLogger) Notef(format string, args ...any) { j.l.Info(fmt.Sprintf(format, args...)) }

func (j jsonLogger) Failed(r *http.Request, f *wsgi.Failure) {
	attrs := []slog.Attr{
		slog.String("app", f.App),
		slog.String("method", r.Method),
		slog.String("uri", r.RequestURI),
		slog.String("error", f.Err.Error()),
	}
	if e := entryOf(r.Context()); e != nil {
		attrs = append(attrs, slog.String("request_id", e.id))
	}
	if f.Stack != nil {
		attrs = append(attrs, slog.String("stack", string(f.Stack)))
	}
	j.l.LogAttrs(r.Context(), slog.LevelError, "app failed", attrs...)
}

// A lineWriter passes on what is written to it a whole line at a time,
// without its newline: output that comes in pieces (a process's prints)
// makes one record a line. What follows the last newline waits for the
// next.
type lineWriter struct {
	w    io.Writer
	mu   sync.Mutex
	part []byte
}

// maxLine is the longest a line may grow before it is written unfinished.
const maxLine = 64 << 10

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 && len(l.part) < maxLine {
			break
		}
		if i < 0 {
			i = len(l.part)
		}
		l.w.Write(l.part[:i])
		l.part = l.part[min(i+1, len(l.part)):]
	}
	if len(l.part) == 0 {
		l.part = nil
	}
	return len(p), nil
}
