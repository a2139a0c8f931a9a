package serve

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"strings"

	"github.com/wsgo/wsgo/internal/termsafe"
	"github.com/wsgo/wsgo/wsgi"
)

// logs is where a built program writes: its own messages, the server's
// errors, the apps' failures and the access log, all in one format.
type logs struct {
	std    *log.Logger // the program's messages: serving, stopping, upgrading
	errors io.Writer   // the http.Server's errors
	app    wsgi.Logger // the gateway's: failures and wsgi.errors
	access func(*entry)
}

// newLogs writes to w in format: "text", lines for a person, or "json",
// one JSON object a line (time, level, msg and the fields of each kind of
// line) for a log pipeline.
func newLogs(format string, w io.Writer) logs {
	if format != "json" {
		std := log.New(w, "", log.LstdFlags)
		return logs{std: std, errors: w, app: wsgi.LogTo(std), access: func(e *entry) { textLine(std, e) }}
	}
	sl := slog.New(slog.NewJSONHandler(w, nil))
	return logs{
		std:    log.New(jsonWriter{sl, slog.LevelInfo}, "", 0),
		errors: jsonWriter{sl, slog.LevelError},
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
