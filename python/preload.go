package python

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wsgo/wsgo/internal/scratch"
)

// A Preloader is a fork server for an app's workers: a Python process that
// has imported the modules the app imports from outside the project (the
// standard library, Flask, Django...) and forks a worker on request. A
// worker forked from it imports only the project's own code, so that a
// restart after a save skips the imports that take most of an app's start.
// Give [Options.Preload] its Socket.
//
// It imports them once, at its start, as the project's import statements
// name them: it reads the project's source, and runs none of it. When one
// of the files it imported changes (a dependency was upgraded), it starts
// afresh, and so it does, after a pause, when it dies; the workers asked for
// meanwhile start from a fresh interpreter. A worker is never worse off than
// without it: whatever goes wrong with the preloader, the worker starts as
// usual.
type Preloader struct {
	// Socket is the Unix socket the preloader takes fork requests on.
	Socket string

	dir     string
	closing chan struct{} // closed by Close
	done    chan struct{} // closed once the last process has exited

	mu   sync.Mutex
	proc *os.Process
}

// restartPause is how long a preloader that died waits before it starts
// again, doubled for each death in a row, to at most maxRestartPause.
const (
	restartPause    = time.Second
	maxRestartPause = 30 * time.Second
)

// StartPreloader starts a preloader for target, with the interpreter,
// project directory and development mode of opts, and returns at once: it
// imports in the background, and takes requests once it has.
func StartPreloader(ctx context.Context, target Target, opts Options) (*Preloader, error) {
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	interp, err := FindInterpreter(ctx, opts.Python, dir)
	if err != nil {
		return nil, err
	}
	tmp, err := scratch.Dir()
	if err != nil {
		return nil, fmt.Errorf("python: preloader: %w", err)
	}
	p := &Preloader{Socket: filepath.Join(tmp, "preload.sock"), dir: tmp, closing: make(chan struct{}), done: make(chan struct{})}
	start := func() (*os.Process, error) { return p.start(interp, dir, target, opts) }
	proc, err := start()
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	go p.keep(proc, start, opts)
	return p, nil
}

// keep starts the preloader again each time it dies, until Close.
func (p *Preloader) keep(proc *os.Process, start func() (*os.Process, error), opts Options) {
	defer close(p.done)
	pause := restartPause
	for {
		proc.Wait()
		select {
		case <-p.closing:
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, maxRestartPause)
		os.Remove(p.Socket)
		os.Remove(p.readyFile())
		next, err := start()
		if err != nil {
			logf(opts, "python: the preloader stopped and could not start again: %v", err)
			return
		}
		logf(opts, "python: the preloader stopped; it started again (pid %d)", next.Pid)
		proc = next
	}
}

func (p *Preloader) start(interp Interpreter, project string, target Target, opts Options) (*os.Process, error) {
	script := filepath.Join(p.dir, "wsgo_worker.py")
	if err := os.WriteFile(script, workerSource, 0o600); err != nil {
		return nil, fmt.Errorf("python: preloader: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p.Socket, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("python: preloader: %w", err)
	}
	ln.SetUnlinkOnClose(false) // the socket is the preloader's from now on
	defer ln.Close()           // the preloader holds its own
	sock, err := ln.File()
	if err != nil {
		return nil, fmt.Errorf("python: preloader: %w", err)
	}
	defer sock.Close()
	config, _ := json.Marshal(map[string]any{
		"protocol": ProtocolVersion, "target": targetConfigOf(target), "project": project,
		"dev": opts.Dev, "socket": 3, "ready": p.readyFile(),
	})
	attr := &os.ProcAttr{
		Dir:   project,
		Env:   append(environment(opts), "PYTHONUNBUFFERED=1"),
		Files: []*os.File{os.Stdin, orStd(opts.Stdout, os.Stdout), orStd(opts.Stderr, os.Stderr), sock},
		Sys:   sysProcAttr(),
	}
	proc, err := os.StartProcess(interp.Path, []string{interp.Path, script, "--preload", string(config)}, attr)
	if err != nil {
		return nil, fmt.Errorf("python: preloader: start %s: %w", interp.Path, err)
	}
	p.mu.Lock()
	p.proc = proc
	p.mu.Unlock()
	return proc, nil
}

// Pid is the preloader's process id, now.
func (p *Preloader) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc.Pid
}

func (p *Preloader) readyFile() string { return filepath.Join(p.dir, "ready") }

// Ready reports whether the preloader has imported what it preloads and
// takes requests.
func (p *Preloader) Ready() bool { return preloaderReady(p.Socket) }

func preloaderReady(socket string) bool {
	_, err := os.Stat(filepath.Join(filepath.Dir(socket), "ready"))
	return err == nil
}

// Close stops the preloader; the workers it forked go on, and end with
// their app.
func (p *Preloader) Close() error {
	close(p.closing)
	killGroup(p.Pid())
	select {
	case <-p.done:
	case <-time.After(killGrace):
	}
	return os.RemoveAll(p.dir)
}

// errNoPreload is why a worker was not forked: the preloader is not (yet)
// there to ask.
var errNoPreload = errors.New("the preloader is not ready")

func orStd(w io.Writer, std *os.File) *os.File {
	if f, ok := w.(*os.File); ok {
		return f
	}
	return std
}
