// Package reload swaps a running server process for a new one without
// closing the listening socket, so that no client sees a refused or
// dropped connection: the Supervisor owns the socket, runs each server it
// is given on it, and drains the old one once the new one is ready.
//
// It knows no language. A [Builder] says what to run (a fresh Go build, a
// Python app's workers, the program on disk); a channel of [Change] says
// when to ask again (a watcher, SIGHUP, a key press). Beside it, each with
// one audience: package control, the line to each server, which
// production programs link alone; package watch, which turns saves into
// Changes by a builder's rules; package gobuild, everything that knows the
// go command. A failed build or a crash is shown by an error-page server on
// the same socket until the next good build.
//
// A server that stops by itself is restarted: at once, then, if it does
// not stay up, after a wait that doubles each time up to a cap, until
// [Supervisor.MaxRestarts] restarts in a row have failed and Run gives
// up. While no server is alive and none is on its way (in production, also
// while the server that replaces a crashed one starts), the supervisor
// answers on the socket itself, 503 Service Unavailable with Retry-After,
// rather than let connections wait in its queue.
package reload

import (
	"cmp"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"time"
)

// Logger is what a Supervisor tells the user.
type Logger interface {
	Printf(format string, args ...any)   // the story of a run
	Successf(format string, args ...any) // a server is ready
	Errorf(format string, args ...any)   // a build failed or a server crashed
}

// A Warner is a [Logger] that tells a warning from an error: a server that
// stopped by itself and is being restarted. A Logger that is not one tells
// it as an error.
type Warner interface {
	Warnf(format string, args ...any)
}

// ErrGaveUp is what Run returns, wrapped with the last failure, when
// MaxRestarts restarts in a row kept no server up.
var ErrGaveUp = errors.New("no server stayed up")

// A Builder makes the program a Supervisor runs.
type Builder interface {
	// Build returns the program to run now. It fails with a *BuildError
	// when the source does not build or does not pass a check, and with
	// ctx's error when ctx is cancelled.
	Build(ctx context.Context) (*Program, error)
}

// BuilderFunc adapts a function to the [Builder] interface.
type BuilderFunc func(ctx context.Context) (*Program, error)

// Build calls f(ctx).
func (f BuilderFunc) Build(ctx context.Context) (*Program, error) { return f(ctx) }

// A Program is a server process to run: what a [Builder] makes.
type Program struct {
	Argv []string // the command and its arguments; Argv[0] is a path
	Env  []string // added to the environment the supervisor passes on
	// ID names the program, so that a build that makes the program already
	// running (a comment edited) starts nothing: "No change". An empty ID
	// never equals another.
	ID string
	// Temporary says that Argv[0] is the supervisor's to remove once the
	// process has started from it: a fresh build of its own, whose time
	// the supervisor tells ("Built in"). A program that is not temporary
	// was not built: an interpreter reads its source as it starts.
	Temporary bool
}

// BuildError is a build that failed: what ran, and what it said.
type BuildError struct {
	Command string // "go build ."
	Output  string // the compiler's messages
}

func (e *BuildError) Error() string { return e.Command + " failed:\n" + e.Output }

// A Change is one batch of edits, or another reason to build again.
type Change struct {
	Paths  []string // files that changed, relative to the root (../lib/x.go in another module), sorted
	Rescan bool     // events were lost; anything may have changed
	// Why, when set, is the change told in words, for a change that is no
	// file's: "SIGHUP: upgrading to the program on disk". It always starts
	// a new server, even of the same program.
	Why string
	// Assets are files that changed which the program reads at run time
	// (templates, stylesheets, scripts, images), relative to the root: no
	// build needed, only the pages to reload.
	Assets []string
}

// Supervisor runs a server process and replaces it on every change.
type Supervisor struct {
	// Listener is bound once. The supervisor accepts on it only while no
	// server serves, to answer 503 at once (see the package comment), and
	// closes it as Run begins to stop, so that new connections are refused.
	Listener *net.TCPListener
	Builder  Builder
	Changes  <-chan Change // a Watcher's Changes, or any other source
	Errors   <-chan error  // problems the watcher reports; may be nil

	// First is a program to start at once without building: the running
	// binary, when it is the one the source builds. Nil: build first.
	First *Program
	Color bool // whether servers colour their output

	Grace time.Duration // how long a drained server may take to finish
	// ReadyTimeout is how long a new server may take to say it is ready
	// before it is stopped and its output shown on the error page.
	ReadyTimeout time.Duration
	Log          Logger
	Stderr       *os.File  // where servers write; os.Stderr if nil
	Keys         io.Reader // Enter or "r" on a line forces a rebuild; nil for none

	// Fallback is the error-page server, which the supervisor tells the
	// failure to show when it starts it. Nil: failures are only logged.
	Fallback *Program
	// KeepOnFailure leaves the running server serving when a build fails or
	// a new server does not start, instead of showing the failure on the
	// error page: a failed upgrade in production is logged and harmless.
	KeepOnFailure bool

	// Production runs a deployed program for an operator rather than a
	// developer's builds: a server that stops by itself is restarted from
	// the program that last became ready (a crash is not a deploy: the
	// Builder is asked again only for a Change), a start that fails while
	// nothing serves is tried again, and the log tells of programs
	// started, never of builds, keys or an error page. Leave Fallback nil.
	Production bool
	// Backoff is the wait before the second restart in a row of a server
	// that stopped by itself or did not start (the first is at once); it
	// doubles at each next one, up to MaxBackoff. 500ms and 10s if zero. A
	// server that serves for 10s, or a Change, ends a run of restarts.
	Backoff, MaxBackoff time.Duration
	// MaxRestarts, when positive, is how many restarts in a row may keep
	// no server up before Run gives up and returns an error, so that a
	// service manager can act. Zero: never give up.
	MaxRestarts int

	// Abort, when closed, stops Run at once: servers are killed, not drained.
	Abort <-chan struct{}

	// Words name what the Builder does, in the supervisor's messages;
	// Go's (building, the next good build) where empty.
	Words Words
}

// Words are how a Supervisor tells what its Builder does, in its language.
type Words struct {
	Change  string // what a change starts: "building"
	Next    string // what ends a failure: "the next good build"
	Refused string // the title of a server that would not serve: "Server refused to start"
}

func (w Words) orGo() Words {
	return Words{
		Change:  cmp.Or(w.Change, "building"),
		Next:    cmp.Or(w.Next, "the next good build"),
		Refused: cmp.Or(w.Refused, "Server refused to start"),
	}
}
