// Package reload rebuilds a Go program when its source changes and swaps the
// running server process for the new one without closing the listening
// socket, so that no client sees a refused or dropped connection.
//
// A Supervisor owns the socket. Each server process inherits it (fd 3, under
// the LISTEN_FDS convention), says when it is ready, and is drained when the
// next one is. A failed build or a crash is shown by an error-page server on
// the same socket until the next good build. Package reload knows nothing of
// HTTP: what a server process serves is its own business.
package reload

import (
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// Logger is what a Supervisor tells the user.
type Logger interface {
	Printf(format string, args ...any)   // the story of a cycle
	Successf(format string, args ...any) // a server is ready
	Errorf(format string, args ...any)   // a build failed or a server crashed
}

// Supervisor runs a server process and replaces it on every change.
type Supervisor struct {
	Source   Source
	Listener *net.TCPListener // bound once; never accepted on here
	Args     []string         // arguments for each server process
	Env      []string         // extra environment for each server process
	Grace    time.Duration    // how long a drained server may take to finish
	Watch    WatchOptions
	Log      Logger
	Stderr   io.Writer // where servers write; os.Stderr if nil
	Keys     io.Reader // Enter or "r" on a line forces a rebuild; nil for none

	// ErrorPage starts the error-page server: wsgo's own binary, with the
	// failure in EnvBuildError. Defaults to os.Executable().
	ErrorPage string

	socket  *os.File
	builds  atomic.Int64
	watcher *Watcher
}
