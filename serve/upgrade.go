package serve

import (
	"context"

	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/wsgo/wsgo/reload"
)

// supervise runs the program under a reload.Supervisor that holds the
// socket: each SIGHUP starts the program now on disk (a new build, put in
// place by a rename), and drains the old one once the new one is ready. A
// program that does not start is logged, and the old one goes on serving.
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
	disk := &onDisk{path: path, args: args}
	sup := &reload.Supervisor{
		Listener:      tcp,
		Builder:       disk,
		Changes:       changes,
		Grace:         o.grace,
		Log:           supervisorLog{logger, l.failure},
		KeepOnFailure: true,
		Fallback:      &reload.Program{Argv: append([]string{path}, args...)},
		Abort:         now,
	}
	if err := sup.Run(ctx); err != nil {
		logger.Print(err)
		return ExitFailure
	}
	logger.Printf("stopped")
	return 0
}

func isUpgradeFlag(a string) bool {
	return a == "-upgrade-on-hup" || a == "--upgrade-on-hup" || a == "-upgrade-on-hup=true" || a == "--upgrade-on-hup=true"
}

// onDisk is a reload.Builder that builds nothing: it takes a copy of the
// program at its path, as it is now. It keeps the last copy it gave, so
// that a server that dies after its program was removed from disk can
// still be restarted.
type onDisk struct {
	path string
	args []string // each server's arguments
	last []byte
}

func (d *onDisk) Build(ctx context.Context) (*reload.Program, error) {
	data, err := os.ReadFile(d.path)
	if err != nil && d.last == nil {
		return nil, &reload.BuildError{Command: "reading " + d.path, Output: err.Error()}
	}
	if err == nil {
		d.last = data
	}
	f, err := os.CreateTemp("", "wsgo-upgrade-*")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Write(d.last); err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	if err := f.Chmod(0o755); err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	return &reload.Program{Argv: append([]string{f.Name()}, d.args...), Temporary: true}, nil
}

// supervisorLog writes what the supervisor tells through the program's log:
// a failed upgrade or a crash as an error.
type supervisorLog struct{ info, failure *log.Logger }

func (l supervisorLog) Printf(format string, args ...any)   { l.info.Printf(trim(format), args...) }
func (l supervisorLog) Successf(format string, args ...any) { l.info.Printf(trim(format), args...) }
func (l supervisorLog) Errorf(format string, args ...any)   { l.failure.Printf(trim(format), args...) }

// trim drops the " * " the supervisor starts its lines with, for a terminal.
func trim(format string) string {
	if len(format) > 3 && format[:3] == " * " {
		return format[3:]
	}
	return format
}
