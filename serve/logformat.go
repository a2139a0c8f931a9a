package serve

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/wsgo/wsgo/internal/logbatch"
	"github.com/wsgo/wsgo/internal/termsafe"
	"github.com/wsgo/wsgo/wsgi"
)

// logs is where a built program writes: its own messages, the server's
// errors, the apps' failures and the access log, all in one format.
type logs struct {
	std    *log.Logger                   // the program's messages: serving, stopping, upgrading
	warn   *log.Logger                   // what went wrong and was taken care of: a crash, restarted
	error  *log.Logger                   // what went wrong and was not: a failed upgrade, giving up
	errors io.Writer                     // the http.Server's errors
	app    wsgi.Logger                   // the gateway's: failures and wsgi.errors
	output func(stream string) io.Writer // for what an app's own processes print on stream
	access func(*entry)
	out    *logbatch.Writer // under them all
}

// batch makes the access log's lines wait up to delay to be written
// together; see logbatch.Writer.
func (l logs) batch(delay time.Duration) { l.out.Batch(delay) }

// flush writes the access log's lines that wait.
func (l logs) flush() { l.out.Flush() }

// newLogs writes to w in format: "text", lines for a person, or "json",
// one JSON object a line (time, level, msg and the fields of each kind of
// line) for a log pipeline. A text line of a warning or an error has its
// level after the time: "2026/01/02 15:04:05 ERROR …".
//
// Access lines are written at once until batch is called.
func newLogs(format string, w io.Writer) logs {
	out := logbatch.New(w, "2006/01/02 15:04:05 ")
	if format != "json" {
		std := log.New(out, "", log.LstdFlags)
		errorLog := log.New(out, "ERROR ", log.LstdFlags|log.Lmsgprefix)
		access := func(e *entry) {
			out.Hold(e.end(), func(b, stamp []byte) []byte { return appendText(append(b, stamp...), e) })
		}
		return logs{
			std:    std,
			warn:   log.New(out, "WARN ", log.LstdFlags|log.Lmsgprefix),
			error:  errorLog,
			errors: out,
			output: func(string) io.Writer { return out },
			app:    textAppLog{Logger: wsgi.LogTo(std), error: errorLog},
			access: access,
			out:    out,
		}
	}
	sl := slog.New(slog.NewJSONHandler(escapeC1{out}, nil))
	access := func(e *entry) {
		now := e.end()
		out.Hold(now, func(b, _ []byte) []byte { return appendJSON(b, now, e) })
	}
	return logs{
		std:    log.New(jsonWriter{sl, slog.LevelInfo}, "", 0),
		warn:   log.New(jsonWriter{sl, slog.LevelWarn}, "", 0),
		error:  log.New(jsonWriter{sl, slog.LevelError}, "", 0),
		errors: jsonWriter{sl, slog.LevelError},
		output: func(stream string) io.Writer {
			return &lineWriter{w: jsonWriter{sl.With("source", stream), slog.LevelInfo}}
		},
		app:    jsonLogger{sl},
		access: access,
		out:    out,
	}
}

// appendJSON appends an access log line as a JSON object, the record
// slog's JSONHandler writes for it (time, level, msg, then the fields),
// with the C1 controls and DEL escaped as escapeC1 escapes them. It is
// formatted in place: slog would take as long as the rest of the request,
// and allocate.
func appendJSON(b []byte, now time.Time, e *entry) []byte {
	b = append(b, `{"time":"`...)
	b = now.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","request_id":`...)
	b = appendJSONString(b, e.id)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, e.method)
	b = append(b, `,"uri":`...)
	b = appendJSONString(b, e.uri)
	b = append(b, `,"proto":`...)
	b = appendJSONString(b, e.proto)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, e.bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, e.ms(), 'f', -1, 64)
	b = append(b, `,"client":`...)
	b = appendJSONString(b, e.client)
	b = append(b, `,"peer":`...)
	b = appendJSONString(b, e.peer)
	b = append(b, `,"scheme":`...)
	b = appendJSONString(b, e.scheme)
	b = append(b, `,"host":`...)
	b = appendJSONString(b, e.host)
	b = append(b, `,"user_agent":`...)
	b = appendJSONString(b, e.agent)
	if e.aborted {
		b = append(b, `,"aborted":true`...)
	}
	return append(b, "}\n"...)
}

// appendJSONString appends s as a JSON string, escaped as slog escapes
// it (bytes that are not UTF-8 become U+FFFD; U+2028 and U+2029 are
// escaped) and as escapeC1 then escapes the C1 controls and DEL.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, `\u00`...)
				b = append(b, hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029' || r <= 0x9f:
			b = append(b, `\u`...)
			b = append(b, hex[r>>12], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}

// appendText appends an access log line for a person, after the time
// stamp:
//
//	2026/01/02 15:04:05 203.0.113.7 "GET /items HTTP/1.1" 200 1234 1.2ms id=4bf92f3577b34da6
//
// The request line is quoted: it is the client's text. The line is
// formatted in place, in the buffer of the batch: it costs no allocation.
func appendText(b []byte, e *entry) []byte {
	// The client may be what a trusted proxy forwarded: escaped, as the rest.
	b = termsafe.Append(b, e.client)
	b = append(b, ' ')
	b = appendQuoted(b, e.method, e.uri, e.proto)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, e.bytes, 10)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, e.ms(), 'f', 1, 64)
	b = append(b, "ms id="...)
	b = append(b, e.id...)
	if e.aborted {
		b = append(b, " aborted"...)
	}
	return append(b, '\n')
}

// appendQuoted appends the request line quoted as strconv.Quote quotes it,
// without joining its parts into a string first.
func appendQuoted(b []byte, method, uri, proto string) []byte {
	if !plainText(method) || !plainText(uri) || !plainText(proto) {
		return strconv.AppendQuote(b, method+" "+uri+" "+proto)
	}
	b = append(b, '"')
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, uri...)
	b = append(b, ' ')
	b = append(b, proto...)
	return append(b, '"')
}

// plainText reports whether s is printable ASCII with no quote or
// backslash: what strconv.Quote leaves as it is.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
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

// requestIDOf is the id of the request f failed on: the one the app saw,
// which logRequests also put in the request.
func requestIDOf(r *http.Request, f *wsgi.Failure) string {
	return cmp.Or(f.Environ.Get(RequestIDKey), r.Header.Get("X-Request-Id"))
}

// textAppLog is the gateway's log in a text log: wsgi.errors and notes as
// they come, and a failure at ERROR with the request's id, as the JSON log
// has them, so that a grep for ERROR or for an id finds it.
type textAppLog struct {
	wsgi.Logger
	error *log.Logger
}

func (l textAppLog) Failed(r *http.Request, f *wsgi.Failure) {
	id := ""
	if v := requestIDOf(r, f); v != "" {
		id = " (request id " + v + ")"
	}
	l.error.Printf("app %q failed on %s %q%s: %s\n%s", f.App, r.Method, r.RequestURI, id, termsafe.Escape(f.Err.Error()), f.Stack)
}

func (j jsonLogger) Failed(r *http.Request, f *wsgi.Failure) {
	attrs := []slog.Attr{
		slog.String("app", f.App),
		slog.String("method", r.Method),
		slog.String("uri", r.RequestURI),
		slog.String("error", f.Err.Error()),
	}
	if id := requestIDOf(r, f); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
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
