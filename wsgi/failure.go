package wsgi

import (
	"io"
	"log"
	"net/http"
	"runtime"
	"strconv"
	"strings"
)

// A Failure is an app's failure on one request, as a [Gateway] reports it to
// its Logger and its ErrorPage.
type Failure struct {
	App string // the name of the app that failed
	Err error  // what went wrong: a panic's value, or a broken rule (a [*ResponseError])
	// Stack is the app's frames where it panicked, in a panic's format, or
	// the text of an error's own [Traceback]; nil if it did not panic.
	Stack []byte

	// Frames is the whole stack of the goroutine that panicked, innermost
	// first, from the frame that panicked to the goroutine's first, the
	// runtime's, the gateway's and net/http's included: what a development
	// server needs to tell the app's frames from the rest. Nil if the app
	// did not panic, or failed with a [Traceback] of its own.
	Frames []runtime.Frame
	// Environ is the request's environ as the app got it.
	Environ Environ
}

// A Traceback is an error that carries the stack where it was raised, when
// that is not the Go stack it surfaced on: an exception raised by an app
// running in another language, such as a Python app in a worker process. A
// [Gateway] reports such an error with its own stack: [Failure.Stack] is the
// traceback's text, and a development server shows its frames.
type Traceback interface {
	error
	// TracebackFrames returns the frames, innermost first, as
	// [Failure.Frames] holds a panic's.
	TracebackFrames() []Frame
	// TracebackText returns the traceback as the app's language prints it.
	TracebackText() string
}

// A Frame is one frame of a [Traceback].
type Frame struct {
	Function string // the function's name, as its language writes it
	File     string // the source file's absolute path, or a name such as "<string>"
	Line     int    // the line in File, from 1; 0 if unknown
	Source   string // the line's text as the program read it, trimmed; "" if unknown
	// User is true for the app's own code: a file of the project, not its
	// language's library or an installed package.
	User bool
}

// PlainErrorPage answers 500 Internal Server Error and says nothing more: it
// is what a [Gateway] shows a client unless told otherwise.
func PlainErrorPage(w http.ResponseWriter, r *http.Request, f *Failure) {
	h := w.Header()
	h.Set("Server", Software)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, "500 Internal Server Error\n")
}

// A Logger is where a [Gateway] reports. [LogTo] makes one from a
// *log.Logger; a development server may have its own, in colour.
type Logger interface {
	// Write receives what apps write to wsgi.errors.
	io.Writer
	// Failed reports an app's failure on r, with its stack if it panicked.
	Failed(r *http.Request, f *Failure)
	// Notef reports what is worth knowing but calls for nothing, such as a
	// client that went away in the middle of a response.
	Notef(format string, args ...any)
}

// LogTo returns a Logger that writes to l: a failure is one line naming the
// app, the request and the error, and the stack under it as Go prints a
// panic's; wsgi.errors goes to l's writer as the app wrote it.
func LogTo(l *log.Logger) Logger { return stdLogger{l} }

type stdLogger struct{ l *log.Logger }

func (s stdLogger) Write(p []byte) (int, error) { return s.l.Writer().Write(p) }

func (s stdLogger) Notef(format string, args ...any) { s.l.Printf(format, args...) }

// Failed quotes the request URI and escapes the error: both may hold the
// client's text, with control characters a terminal would act on or
// newlines that would forge log lines.
func (s stdLogger) Failed(r *http.Request, f *Failure) {
	s.l.Printf("app %q failed on %s %q: %s\n%s", f.App, r.Method, r.RequestURI, escape(f.Err.Error()), f.Stack)
}

// escape writes what a terminal would act on as Go escapes it in a string
// literal (\x1b, \n, \u009b), and leaves the rest as it is.
func escape(s string) string {
	q := strconv.Quote(s)
	if len(q) == len(s)+2 {
		return s // nothing was escaped
	}
	return strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
}
