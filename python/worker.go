package python

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// workerSource is the Python half of the protocol, written to a temporary
// directory when an App starts.
//
//go:embed worker.py
var workerSource []byte

// How long a stopping worker gets to exit on its own, and then after its
// process group was killed.
const (
	stopGrace = 3 * time.Second
	killGrace = 2 * time.Second
)

// workerConfig is the JSON a worker gets as its one argument.
type workerConfig struct {
	Protocol     int          `json:"protocol"`
	Target       targetConfig `json:"target"`
	Project      string       `json:"project"` // the working directory
	Dev          bool         `json:"dev"`
	Control      int          `json:"control"`  // the control socket's descriptor
	Channels     []int        `json:"channels"` // one request channel a thread
	Multiprocess bool         `json:"multiprocess"`
}

type targetConfig struct {
	File   string `json:"file,omitempty"`
	Module string `json:"module,omitempty"`
	Name   string `json:"name,omitempty"`
	Call   bool   `json:"call,omitempty"`
	Args   string `json:"args,omitempty"`
}

// A worker is one Python process and its channels.
type worker struct {
	app      *App
	cmd      *exec.Cmd
	pid      int
	control  net.Conn
	channels []*channel
	stderr   *tailWriter
	info     readyInfo

	shook atomic.Bool // the handshake is over: an exit closes the control channel

	// Under app.mu: requests served, how many it may serve before it is
	// recycled, whether it is (a new worker is starting), whether it is
	// retired (its channels close as their requests end), and how many of
	// its channels are open.
	served, limit      int
	recycling, retired bool
	open               int

	exited  chan struct{} // closed once the process has exited and been waited for
	exitErr error         // what Wait returned; read after exited is closed
	stopped sync.Once
}

// spawn starts a worker and waits until it has loaded the app, or failed to.
func (a *App) spawn(ctx context.Context) (*worker, error) {
	parents, children, err := socketPairs(1 + a.threads)
	if err != nil {
		return nil, a.loadError(LoadWorker, channelsError(a.threads, err))
	}
	defer closeFiles(children)
	config := workerConfig{
		Protocol:     ProtocolVersion,
		Target:       targetConfigOf(a.target),
		Project:      a.project,
		Dev:          a.opts.Dev,
		Control:      3,
		Multiprocess: a.workers > 1,
	}
	for i := range a.threads {
		config.Channels = append(config.Channels, 4+i)
	}
	w := &worker{app: a, exited: make(chan struct{}), stderr: &tailWriter{w: a.opts.Stderr},
		limit: a.opts.MaxRequests + rand.IntN(max(a.opts.MaxRequestsJitter, 0)+1), open: a.threads}
	w.control = parents[0]
	for _, conn := range parents[1:] {
		w.channels = append(w.channels, &channel{w: w, conn: conn, r: bufio.NewReaderSize(conn, 64<<10)})
	}
	if err := a.track(w); err != nil {
		closeConns(parents)
		return nil, err
	}
	if err := a.forkOrStart(ctx, w, config, children); err != nil {
		closeConns(parents)
		a.untrack(w)
		return nil, err
	}
	closeFiles(children)
	if testHookBeforeHandshake != nil {
		testHookBeforeHandshake(w)
	}
	if err := w.handshake(ctx); err != nil {
		w.stop()
		return nil, err
	}
	return w, nil
}

// channelsError explains why a worker's n+1 socket pairs could not be
// made: most often the open-file limit, which a worker's threads count
// against twice.
func channelsError(threads int, err error) string {
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		return fmt.Sprintf("cannot create the channels of a worker of %d threads: too many open files; use fewer threads, or raise the limit (ulimit -n)", threads)
	}
	return fmt.Sprintf("cannot create the worker's channels: %v", err)
}

// testHookBeforeHandshake, when a test sets it, runs between a worker's
// start and its handshake.
var testHookBeforeHandshake func(*worker)

// forkOrStart forks the worker from the preloader, if there is one that
// can, or starts it from a fresh interpreter.
func (a *App) forkOrStart(ctx context.Context, w *worker, config workerConfig, children []*os.File) error {
	if a.opts.Preload != "" {
		forked := config
		forked.Control, forked.Channels = 0, nil
		for i := range a.threads {
			forked.Channels = append(forked.Channels, 1+i)
		}
		pid, err := forkWorker(ctx, a.opts.Preload, forked, children)
		if err == nil {
			w.pid = pid
			go w.waitForked()
			return nil
		}
		if !errors.Is(err, errNoPreload) {
			a.logf("python: starting a worker from a fresh interpreter: the preloader could not fork one (%v)", err)
		}
	}
	arg, _ := json.Marshal(config)
	cmd := exec.Command(a.interp.Path, a.script, string(arg))
	cmd.Dir = a.project
	cmd.Env = append(a.environment(), "PYTHONUNBUFFERED=1")
	cmd.Stdout = a.opts.Stdout
	cmd.Stderr = w.stderr
	cmd.ExtraFiles = children
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = killGrace // the app's own children may hold its output open
	w.cmd = cmd
	if err := cmd.Start(); err != nil {
		return a.loadError(LoadWorker, fmt.Sprintf("cannot start %s: %v", a.interp.Path, err))
	}
	w.pid = cmd.Process.Pid
	go w.wait()
	return nil
}

// targetConfigOf is target as a worker reads it.
func targetConfigOf(t Target) targetConfig {
	return targetConfig{File: t.File, Module: t.Module, Name: t.Name, Call: t.Call, Args: t.Args}
}

// handshake reads the worker's hello, then its ready or why it cannot load
// the app.
func (w *worker) handshake(ctx context.Context) error {
	defer w.handshakeDone()
	a := w.app
	stop := context.AfterFunc(ctx, func() { w.control.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	r := bufio.NewReader(w.control)
	kind, p, err := readFrame(r)
	if err != nil {
		return w.startFailure(ctx, err)
	}
	if err := decodeHello(kind, p); err != nil {
		return a.loadError(LoadWorker, err.Error())
	}
	kind, p, err = readFrame(r)
	if err != nil {
		return w.startFailure(ctx, err)
	}
	switch kind {
	case frameReady:
		if err := json.Unmarshal(p, &w.info); err != nil {
			return a.loadError(LoadWorker, protocolErrorf("a ready frame is not JSON: %v", err).Error())
		}
		w.control.SetReadDeadline(time.Time{})
		return nil
	case frameLoadError:
		var f loadFailure
		if err := json.Unmarshal(p, &f); err != nil {
			return a.loadError(LoadWorker, protocolErrorf("a load error frame is not JSON: %v", err).Error())
		}
		e := a.loadError(LoadErrorKind(f.Kind), f.Message)
		if f.Exception != nil {
			e.Exception = f.Exception.exception()
		}
		return e
	}
	return a.loadError(LoadWorker, protocolErrorf("frame %q arrived where ready was expected", kind).Error())
}

// handshakeDone lets ended close the control channel, and closes it if the
// worker has exited meanwhile.
func (w *worker) handshakeDone() {
	w.shook.Store(true)
	if w.gone() {
		w.control.Close()
	}
}

// startFailure explains a worker that stopped talking before it was ready.
func (w *worker) startFailure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if errors.Is(context.Cause(ctx), context.Canceled) {
			return w.app.loadError(LoadWorker, "stopped while the app was still loading")
		}
		return w.app.loadError(LoadWorker, fmt.Sprintf("the app did not finish loading in time (%v): is its import waiting on something?", context.Cause(ctx)))
	}
	if !w.waitExit(killGrace) {
		return w.app.loadError(LoadWorker, fmt.Sprintf("the worker's control channel failed: %v", err))
	}
	msg := fmt.Sprintf("the Python worker %s before it was ready", w.exitDescription())
	if tail := strings.TrimSpace(w.stderr.String()); tail != "" {
		msg += "; it wrote:\n" + tail
	}
	return w.app.loadError(LoadWorker, msg)
}

// wait waits for the process to exit, closes its channels, and tells the
// app.
func (w *worker) wait() {
	w.exitErr = w.cmd.Wait()
	w.ended()
}

// waitForked waits for a worker the preloader forked, which is not this
// process's child to wait for, then does what wait does.
func (w *worker) waitForked() {
	waitPid(w.pid)
	w.exitErr = errForkedExit
	w.ended()
}

// errForkedExit stands for the exit status of a forked worker, which only
// its parent, the preloader, learns.
var errForkedExit = errors.New("exited")

// ended closes the channels of a worker that has exited, and tells the app.
func (w *worker) ended() {
	close(w.exited)
	if w.shook.Load() {
		// Before, the handshake reads what the worker said before it
		// exited (why it could not load the app), then the end.
		w.control.Close()
	}
	for _, c := range w.channels {
		c.conn.Close()
	}
	killGroup(w.pid) // whatever the app started in its group goes with it
	w.app.lost(w)
}

// waitExit waits up to d for the process to exit, and reports whether it did.
func (w *worker) waitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.exited:
		return true
	case <-t.C:
		return false
	}
}

// gone reports whether the process has exited.
func (w *worker) gone() bool {
	select {
	case <-w.exited:
		return true
	default:
		return false
	}
}

// exitDescription says how the process ended, once it has.
func (w *worker) exitDescription() string {
	var exit *exec.ExitError
	switch {
	case w.exitErr == errForkedExit:
		return "exited"
	case w.exitErr == nil:
		return "exited with status 0"
	case errors.As(w.exitErr, &exit) && exit.Exited():
		return fmt.Sprintf("exited with status %d", exit.ExitCode())
	case errors.As(w.exitErr, &exit):
		return "was killed (" + exit.String() + ")"
	}
	return "ended: " + w.exitErr.Error()
}

// stop ends the worker: closing its control channel tells it to exit; if
// it has not within stopGrace, its process group is killed. It returns
// once the process has exited.
func (w *worker) stop() {
	w.stopped.Do(func() {
		w.control.Close()
		for _, c := range w.channels {
			c.conn.Close()
		}
	})
	if w.waitExit(stopGrace) {
		return
	}
	killGroup(w.pid)
	w.waitExit(killGrace)
}

// kill ends the worker at once: its channel broke, so its state is unknown.
func (w *worker) kill() {
	killGroup(w.pid)
}

// A tailWriter passes output on and keeps its end, to explain a worker that
// died before it was ready.
type tailWriter struct {
	w    io.Writer
	mu   sync.Mutex
	tail []byte
}

const tailSize = 4 << 10

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	t.tail = append(t.tail, p...)
	if len(t.tail) > tailSize {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-tailSize:]...)
	}
	t.mu.Unlock()
	return t.w.Write(p)
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.tail)
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

func closeConns(conns []net.Conn) {
	for _, c := range conns {
		c.Close()
	}
}
