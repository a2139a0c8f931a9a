package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/wsgo/wsgo/reload"

	"github.com/wsgo/wsgo/internal/scratch"
)

// supervise runs the program under a reload.Supervisor that holds the
// socket: each SIGHUP starts the program now on disk (a new build, put in
// place by a rename), and drains the old one once the new one is ready. A
// program that does not start is logged, and the old one goes on serving.
// A server that stops by itself is restarted from the program that last
// served, with backoff; while none can, the supervisor answers 503 itself,
// and after -max-restarts failed restarts in a row it exits 1.
func supervise(ctx context.Context, now <-chan struct{}, prog string, args []string, ln net.Listener, o options, l logs) int {
	logger := l.std
	tcp, ok := ln.(*net.TCPListener)
	if !ok || !reload.Supported {
		logger.Printf("-upgrade-on-hup needs a TCP socket on Linux or macOS")
		return ExitUsage
	}
	path, err := exec.LookPath(prog)
	if err == nil {
		path, err = filepath.Abs(path)
	}
	if err != nil {
		logger.Printf("-upgrade-on-hup: where is this program on disk? %v", err)
		return ExitFailure
	}
	hups := make(chan os.Signal, 1)
	signal.Notify(hups, syscall.SIGHUP)
	defer signal.Stop(hups)
	changes := make(chan reload.Change)
	go func() {
		for range hups {
			changes <- reload.Change{Why: "SIGHUP: starting " + path}
		}
	}()
	logger.Printf("serving %s on http://%s; SIGHUP upgrades to the program at %s", describe(o), ln.Addr(), path)
	// Every server runs from a copy, the first too: the program on disk may
	// be replaced or removed, and `kill -HUP $(pidof NAME)` must reach this
	// supervisor alone.
	args = slices.DeleteFunc(slices.Clone(args), isUpgradeFlag)
	dir, err := scratch.Dir()
	if err != nil {
		logger.Printf("-upgrade-on-hup: a directory for the program's copies: %v", err)
		return ExitFailure
	}
	defer os.RemoveAll(dir)
	sup := &reload.Supervisor{
		Listener:      tcp,
		Builder:       &onDisk{path: path, args: args, dir: dir},
		Changes:       changes,
		Grace:         o.grace,
		Log:           supervisorLog{l},
		KeepOnFailure: true,
		Production:    true,
		MaxRestarts:   o.maxRestarts,
		Abort:         now,
	}
	if err := sup.Run(ctx); err != nil {
		if errors.Is(err, reload.ErrGaveUp) {
			l.error.Printf("%v (-max-restarts %d): exiting, for the service manager to act", err, o.maxRestarts)
		} else {
			l.error.Print(err)
		}
		return ExitFailure
	}
	logger.Printf("stopped")
	return 0
}

func isUpgradeFlag(a string) bool {
	return a == "-upgrade-on-hup" || a == "--upgrade-on-hup" || a == "-upgrade-on-hup=true" || a == "--upgrade-on-hup=true"
}

// onDisk is a reload.Builder that builds nothing: it takes a copy of the
// program at its path, as it is now. The supervisor keeps the copy that
// last became ready, to restart it after a crash, whatever is on disk then.
type onDisk struct {
	path string
	args []string // each server's arguments
	dir  string   // where the copies go: swept by the next wsgo program if this one is killed
}

func (d *onDisk) Build(ctx context.Context) (*reload.Program, error) {
	data, err := os.ReadFile(d.path)
	if err != nil {
		return nil, &reload.BuildError{Command: "reading " + d.path, Output: err.Error() + "\n(put the new program in place by a rename, then send SIGHUP)"}
	}
	f, err := os.CreateTemp(d.dir, "program-*")
	if err != nil {
		return nil, fmt.Errorf("a copy of %s: %w", d.path, err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("a copy of %s: %w", d.path, err)
	}
	if err := f.Chmod(0o755); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("a copy of %s: %w", d.path, err)
	}
	return &reload.Program{Argv: append([]string{f.Name()}, d.args...), Temporary: true}, nil
}

// supervisorLog writes what the supervisor tells through the program's
// log, at its level: a crash restarted is a warning, a failed upgrade or
// restart an error.
type supervisorLog struct{ l logs }

func (s supervisorLog) Printf(format string, args ...any)   { s.l.std.Printf(trim(format), args...) }
func (s supervisorLog) Successf(format string, args ...any) { s.l.std.Printf(trim(format), args...) }
func (s supervisorLog) Warnf(format string, args ...any)    { s.l.warn.Printf(trim(format), args...) }
func (s supervisorLog) Errorf(format string, args ...any)   { s.l.error.Printf(trim(format), args...) }

// trim drops the " * " the supervisor starts its lines with, for a terminal.
func trim(format string) string {
	if len(format) > 3 && format[:3] == " * " {
		return format[3:]
	}
	return format
}
