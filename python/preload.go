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
// It imports them once, at its start, by importing the app in a child of
// its own. When one of the files it imported changes (a dependency was
// upgraded), it starts afresh, and the worker asked for meanwhile is started
// from a fresh interpreter. A worker is never worse off than without it:
// whatever goes wrong with the preloader, the worker starts as usual.
type Preloader struct {
	// Socket is the Unix socket the preloader takes fork requests on.
	Socket string

	dir  string
	proc *os.Process
	done chan struct{}
}

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
	p := &Preloader{Socket: filepath.Join(tmp, "preload.sock"), dir: tmp, done: make(chan struct{})}
	if err := p.start(interp, dir, target, opts); err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return p, nil
}

func (p *Preloader) start(interp Interpreter, project string, target Target, opts Options) error {
	script := filepath.Join(p.dir, "wsgo_worker.py")
	if err := os.WriteFile(script, workerSource, 0o600); err != nil {
		return fmt.Errorf("python: preloader: %w", err)
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p.Socket, Net: "unix"})
	if err != nil {
		return fmt.Errorf("python: preloader: %w", err)
	}
	ln.SetUnlinkOnClose(false) // the socket is the preloader's from now on
	defer ln.Close()           // the preloader holds its own
	sock, err := ln.File()
	if err != nil {
		return fmt.Errorf("python: preloader: %w", err)
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
		return fmt.Errorf("python: preloader: start %s: %w", interp.Path, err)
	}
	p.proc = proc
	go func() {
		proc.Wait()
		close(p.done)
	}()
	return nil
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
	if p.proc != nil {
		killGroup(p.proc.Pid)
		select {
		case <-p.done:
		case <-time.After(killGrace):
		}
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
