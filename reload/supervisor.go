// Package reload rebuilds a Go program when its source changes and swaps the
// running server process for the new one without closing the listening
// socket, so that no client sees a refused or dropped connection.
//
// It holds both halves of the protocol between a Supervisor and its servers.
// The Supervisor owns the socket; each server process inherits it (fd 3,
// under the LISTEN_FDS convention), calls Attach to get it with its line to
// the supervisor, says when it is Ready, and from then on receives Messages:
// hand over to the next server, stop, reload the pages. A failed build or a
// crash is shown by an error-page server on the same socket until the next
// good build. Package reload knows nothing of HTTP: what a server process
// serves is its own business.
package reload

import (
	"context"
	"io"
	"net"
	"os"
	"time"
)

// Logger is what a Supervisor tells the user.
type Logger interface {
	Printf(format string, args ...any)   // the story of a cycle
	Successf(format string, args ...any) // a server is ready
	Errorf(format string, args ...any)   // a build failed or a server crashed
}

// A Builder makes the program a Supervisor runs.
type Builder interface {
	// Build builds the program and returns the path of an executable that
	// the caller runs and then removes. It fails with a *BuildError when
	// the source does not build, and with ErrUnchanged when the program is
	// the same as the one last built.
	Build(ctx context.Context) (exe string, err error)
}

// BuildError is a build that failed: what ran, and what it said.
type BuildError struct {
	Command string // "go build ."
	Output  string // the compiler's messages
}

func (e *BuildError) Error() string { return e.Command + " failed:\n" + e.Output }

// Supervisor runs a server process and replaces it on every change.
type Supervisor struct {
	Listener *net.TCPListener // bound once; never accepted on here
	Builder  Builder
	Changes  <-chan Change // a Watcher's Changes, or any other source
	Errors   <-chan error  // problems the watcher reports; may be nil

	// First is a program to start at once without building: the running
	// binary, when it is the one the source builds. Empty: build first.
	First string
	Args  []string // arguments for each server process
	Env   []string // extra environment for each server process
	Color bool     // whether servers colour their output

	Grace time.Duration // how long a drained server may take to finish
	// ReadyTimeout is how long a new server may take to say it is ready
	// before it is stopped and its output shown on the error page.
	ReadyTimeout time.Duration
	Log          Logger
	Stderr       *os.File  // where servers write; os.Stderr if nil
	Keys         io.Reader // Enter or "r" on a line forces a rebuild; nil for none

	// ErrorPage starts the error-page server: wsgo's own binary, which
	// finds the failure in its Child. Defaults to os.Executable().
	ErrorPage string
	// KeepOnFailure leaves the running server serving when a build fails or
	// a new server does not start, instead of showing the failure on the
	// error page: a failed upgrade in production is logged and harmless.
	KeepOnFailure bool

	// Abort, when closed, stops Run at once: servers are killed, not drained.
	Abort <-chan struct{}
}
