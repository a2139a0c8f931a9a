package python

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsgo/wsgo/wsgi"
)

// An Exception is an exception a Python app raised while it answered a
// request, or while it was imported. [App.ServeWSGI] panics with it, as a
// failing Go app panics, so that the gateway answers 500 (or cuts the
// connection if the headers went out) and logs it. It is a [wsgi.Traceback]:
// the log gets the Python traceback, and the development server's error page
// shows the Python frames, the user's own first.
type Exception struct {
	Type    string // the exception's class, qualified unless a builtin: "KeyError", "jinja2.exceptions.TemplateNotFound"
	Message string // str() of the exception

	// Frames are the traceback's frames, innermost first (Python prints
	// them in the other order), the worker's own left out. A frame is
	// User when its file is under the project and not in the standard
	// library or an installed package.
	Frames []wsgi.Frame

	// Traceback is the traceback as Python prints it, chained exceptions
	// included.
	Traceback string

	// Syntax is where a SyntaxError points, or nil.
	Syntax *SyntaxPosition
}

// A SyntaxPosition is where a SyntaxError points.
type SyntaxPosition struct {
	File    string // absolute path
	Line    int    // from 1
	Column  int    // from 1, the caret's position in Text; 0 if unknown
	Text    string // the line as Python read it
	Message string // the error without its position, such as "'(' was never closed"
}

// Error returns the exception as Python's last traceback line says it:
// "ZeroDivisionError: division by zero".
func (e *Exception) Error() string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// TracebackFrames returns e.Frames, for the gateway and the development
// server.
func (e *Exception) TracebackFrames() []wsgi.Frame { return e.Frames }

// TracebackText returns e.Traceback, or Error() if there is none.
func (e *Exception) TracebackText() string {
	if e.Traceback == "" {
		return e.Error() + "\n"
	}
	return e.Traceback
}

var _ wsgi.Traceback = (*Exception)(nil)

// A LoadError is why a Python app could not be loaded: its module is
// missing, does not parse or raised while imported, the callable is missing
// or is not callable, or the interpreter or a worker failed. [Start]
// returns it.
type LoadError struct {
	Target Target
	Kind   LoadErrorKind
	// Message is one sentence: what went wrong, and what to do about it
	// when that is not plain.
	Message string
	// Exception is what Python raised, when it raised: while importing the
	// module (a SyntaxError too), or calling a factory. Nil otherwise.
	Exception *Exception
}

// A LoadErrorKind says why an app could not be loaded.
type LoadErrorKind string

// The kinds of [LoadError].
const (
	LoadSyntax          LoadErrorKind = "syntax"           // the module or one it imports does not parse
	LoadImport          LoadErrorKind = "import"           // an import inside the app failed
	LoadException       LoadErrorKind = "exception"        // the module (or a factory) raised
	LoadMissingModule   LoadErrorKind = "missing-module"   // no such file or module
	LoadMissingCallable LoadErrorKind = "missing-callable" // the module has no such name
	LoadNotCallable     LoadErrorKind = "not-callable"     // the name is not a callable
	LoadBadTarget       LoadErrorKind = "target"           // the target cannot be used as written
	LoadWorker          LoadErrorKind = "worker"           // the interpreter or a worker process failed
)

// Error returns the short text a terminal shows: the target and the
// message on the first line, then the user's frames of the traceback, each
// as a file:line position with its line of source, or a SyntaxError's
// position with a caret under the column. Paths are relative to the working
// directory when they are below it.
func (e *LoadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cannot load the Python app %s: %s", e.Target, e.Message)
	if e.Exception != nil {
		writeUserFrames(&b, e.Exception)
	}
	return b.String()
}

// Unwrap returns e.Exception, or nil.
func (e *LoadError) Unwrap() error {
	if e.Exception == nil {
		return nil
	}
	return e.Exception
}

// writeUserFrames writes the user's frames of x, outermost first as Python
// prints them, and a SyntaxError's position with its caret. The others
// (importlib's, a package's) are in x.Traceback.
func writeUserFrames(b *strings.Builder, x *Exception) {
	for i := len(x.Frames) - 1; i >= 0; i-- {
		f := x.Frames[i]
		if !f.User || (x.Syntax != nil && i == 0) {
			continue
		}
		fmt.Fprintf(b, "\n%s:%d in %s", relative(f.File), f.Line, f.Function)
		if f.Source != "" {
			b.WriteString("\n    " + f.Source)
		}
	}
	if s := x.Syntax; s != nil {
		fmt.Fprintf(b, "\n%s:%d", relative(s.File), s.Line)
		if s.Column > 0 {
			fmt.Fprintf(b, ":%d", s.Column)
		}
		fmt.Fprintf(b, ": %s", s.Message)
		if text := strings.TrimRight(s.Text, "\r\n"); strings.TrimSpace(text) != "" {
			trimmed := strings.TrimLeft(text, " \t")
			b.WriteString("\n    " + trimmed)
			if col := s.Column - (len(text) - len(trimmed)); col >= 1 && col <= len(trimmed)+1 {
				b.WriteString("\n    " + strings.Repeat(" ", col-1) + "^")
			}
		}
	}
}

// relative returns path relative to the working directory when below it.
func relative(path string) string {
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(path) {
		return path
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return path
	}
	return rel
}

// ErrClosed is what a request gets from an [App] after Close or Shutdown.
var ErrClosed = errors.New("python: the app's workers were stopped")
