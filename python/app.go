package python

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/wsgo/wsgo/internal/scratch"
)

// DefaultThreads is how many requests a worker process serves at once when
// [Options] does not say: each on a thread of its own, as flask run serves
// each request on a thread.
const DefaultThreads = 16

// Options say how to run a Python app.
type Options struct {
	// Python is the interpreter: a path or a command name, as given by a
	// --python flag. If empty, [FindInterpreter] picks one.
	Python string
	// Dir is the project directory: the workers' working directory, from
	// which a file target's path is read and a module target is imported,
	// and below which a traceback's frames are the user's. If empty, the
	// current directory.
	Dir string
	// Workers is how many worker processes serve the app; 0 means 1.
	Workers int
	// Threads is how many requests each worker serves at once, each on a
	// thread of its own; 0 means DefaultThreads. With 1, a worker serves
	// one request at a time, as a gunicorn sync worker does.
	Threads int
	// Dev is development mode: a Flask app lets its exceptions reach the
	// server (PROPAGATE_EXCEPTIONS), which shows them, and reloads its
	// templates (TEMPLATES_AUTO_RELOAD). Without it the app runs as it is.
	Dev bool
	// Env is the workers' environment; nil means this process's.
	Env []string
	// Stdout and Stderr receive what the workers print; nil means this
	// process's.
	Stdout, Stderr io.Writer
	// Preload is the socket of a [Preloader] to fork workers from, so that
	// they skip importing what it has imported. Empty, or when it cannot
	// fork one, a worker starts from a fresh interpreter.
	Preload string
	// Logf reports what happens to workers while the app serves: one died
	// and another starts, or could not start; one is recycled. Nil means
	// the log package's.
	Logf func(format string, args ...any)
	// Infof reports what happens as planned: a worker recycled after
	// MaxRequests. Nil means Logf.
	Infof func(format string, args ...any)
	// MaxRequests, when positive, recycles a worker once it has served
	// that many requests, and a random number more up to
	// MaxRequestsJitter, so that workers started together do not all
	// recycle together: a new worker starts beside it, and once the new one
	// has imported the app, the old one finishes the requests it has and
	// exits. It bounds what an app that leaks memory can take, as
	// gunicorn's --max-requests and --max-requests-jitter do; no request
	// fails for it.
	MaxRequests, MaxRequestsJitter int
}

// An App is a Python WSGI app running in worker processes, served as a
// [wsgi.App]: give it to a wsgi.Gateway (wsgi.Handler, or the development
// server's gateway), which speaks HTTP, builds the environ and applies
// PEP 3333's rules; the workers only run the Python app.
//
// Requests share the workers' threads: a request takes a free thread or
// waits for one, so a slow or streaming response holds one thread and never
// blocks the others. A worker that dies is replaced; the requests it was
// serving fail.
type App struct {
	target  Target
	opts    Options
	interp  Interpreter
	project string // absolute
	tmp     string // holds worker.py
	script  string
	workers int
	threads int
	info    readyInfo

	stopping chan struct{} // closed by Shutdown or Close: replacements stop

	mu      sync.Mutex
	all     map[*worker]bool // every process started and not yet exited; true once ready
	idle    []*channel
	waiters []chan acquired
	busy    int           // channels serving a request
	drained chan struct{} // closed when busy reaches 0, once Shutdown waits for it
	closing bool
	down    error // no worker is ready, and the last start failed: why
	stopped sync.Once
}

// acquired is what a waiting request gets: a channel, or why there is none.
type acquired struct {
	c   *channel
	err error
}

// Start runs target in worker processes and returns when every worker has
// imported the app and found its callable, or fails with a [*LoadError]:
// the interpreter is missing or too old, the module is missing, does not
// parse or raised, the callable is missing or not callable. ctx bounds the
// start, not the app's life: end that with [App.Shutdown] or [App.Close].
func Start(ctx context.Context, target Target, opts Options) (*App, error) {
	a := &App{
		target:   target,
		opts:     opts,
		workers:  max(opts.Workers, 1),
		threads:  cmp.Or(max(opts.Threads, 0), DefaultThreads),
		stopping: make(chan struct{}),
		all:      map[*worker]bool{},
	}
	if a.opts.Stdout == nil {
		a.opts.Stdout = os.Stdout
	}
	if a.opts.Stderr == nil {
		a.opts.Stderr = os.Stderr
	}
	dir, err := filepath.Abs(cmp.Or(opts.Dir, "."))
	if err != nil {
		return nil, a.loadError(LoadWorker, err.Error())
	}
	a.project = dir
	a.interp, err = FindInterpreter(ctx, opts.Python, dir)
	if err != nil {
		return nil, a.loadError(LoadWorker, err.Error())
	}
	if a.tmp, err = scratch.Dir(); err != nil {
		return nil, a.loadError(LoadWorker, fmt.Sprintf("cannot write the worker script: %v", err))
	}
	a.script = filepath.Join(a.tmp, "wsgo_worker.py")
	if err := os.WriteFile(a.script, workerSource, 0o600); err != nil {
		os.RemoveAll(a.tmp)
		return nil, a.loadError(LoadWorker, fmt.Sprintf("cannot write the worker script: %v", err))
	}
	if err := a.startWorkers(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// startWorkers starts every worker at once and waits for them all.
func (a *App) startWorkers(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, a.workers)
	for range a.workers {
		go func() {
			w, err := a.spawn(ctx)
			if err == nil {
				a.ready(w)
			} else {
				cancel() // one failure is enough: the others would fail alike
			}
			errs <- err
		}()
	}
	var first error
	for range a.workers {
		err := <-errs
		var le *LoadError
		// The app's own failure explains more than a start cut short.
		if err != nil && (first == nil || errors.As(err, &le) && le.Kind != LoadWorker) {
			first = err
		}
	}
	return first
}

// loadError returns a LoadError for a's target.
func (a *App) loadError(kind LoadErrorKind, msg string) *LoadError {
	return &LoadError{Target: a.target, Kind: kind, Message: msg}
}

func (a *App) environment() []string { return environment(a.opts) }

// environment is the workers' environment that opts asks for.
func environment(opts Options) []string {
	if opts.Env != nil {
		return slices.Clone(opts.Env)
	}
	return os.Environ()
}

func (a *App) logf(format string, args ...any) { logf(a.opts, format, args...) }

// logf reports through opts.Logf, or the log package's standard logger.
func logf(opts Options, format string, args ...any) {
	if opts.Logf != nil {
		opts.Logf(format, args...)
		return
	}
	log.Printf(format, args...)
}

func (a *App) infof(format string, args ...any) {
	if a.opts.Infof != nil {
		a.opts.Infof(format, args...)
		return
	}
	a.logf(format, args...)
}

// Target returns the app's target.
func (a *App) Target() Target { return a.target }

// Interpreter returns the Python that runs the app.
func (a *App) Interpreter() Interpreter { return a.interp }

// Routes is what can be told of an app without asking it a request.
type Routes struct {
	Target Target
	// Framework is "flask", "django", or "wsgi" for any other callable.
	Framework string
	// Rules are a Flask app's URL rules, in the order Flask matches them;
	// empty for other apps.
	Rules []Route
}

// A Route is one of a Flask app's URL rules.
type Route struct {
	Rule     string   `json:"rule"`     // such as "/user/<int:id>"
	Endpoint string   `json:"endpoint"` // the view's endpoint name
	Methods  []string `json:"methods"`  // sorted, HEAD and OPTIONS included
}

// Routes returns what the workers told of the app when they loaded it.
func (a *App) Routes() Routes {
	return Routes{Target: a.target, Framework: a.info.Kind, Rules: slices.Clone(a.info.Routes)}
}

// track registers a worker about to start; it fails once the app stops.
func (a *App) track(w *worker) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closing {
		return ErrClosed
	}
	a.all[w] = false
	return nil
}

func (a *App) untrack(w *worker) {
	a.mu.Lock()
	delete(a.all, w)
	a.mu.Unlock()
}

// ready puts a loaded worker's channels to work.
func (a *App) ready(w *worker) {
	a.mu.Lock()
	if a.info.Kind == "" {
		a.info = w.info
	}
	if _, ok := a.all[w]; !ok || a.closing {
		// It exited before it could serve, or the app is stopping.
		closing := a.closing
		a.mu.Unlock()
		if !closing {
			go a.replace()
		}
		return
	}
	a.all[w] = true
	a.down = nil
	a.mu.Unlock()
	for _, c := range w.channels {
		a.mu.Lock()
		a.busy++
		a.mu.Unlock()
		a.release(c)
	}
}

// lost forgets a worker whose process exited, and starts another if the
// worker was serving.
func (a *App) lost(w *worker) {
	a.mu.Lock()
	wasReady := a.all[w]
	delete(a.all, w)
	a.idle = slices.DeleteFunc(a.idle, func(c *channel) bool { return c.w == w })
	closing, recycling := a.closing, w.recycling
	a.mu.Unlock()
	if closing || !wasReady {
		return
	}
	if recycling {
		// Its replacement is on its way already.
		a.logf("python: worker %d %s while being recycled", w.pid, w.exitDescription())
		return
	}
	a.logf("python: worker %d %s; starting another", w.pid, w.exitDescription())
	go a.replace()
}

// Restarts back off from firstBackoff to maxBackoff while they fail.
const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 10 * time.Second
	startTimeout = 2 * time.Minute
)

// replace starts a worker in place of one that died or is recycled, trying
// again, less and less often, until one loads (it reports true) or the app
// stops.
func (a *App) replace() bool {
	backoff := firstBackoff
	for {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		go func() {
			select {
			case <-a.stopping:
				cancel()
			case <-ctx.Done():
			}
		}()
		w, err := a.spawn(ctx)
		cancel()
		if err == nil {
			a.ready(w)
			return true
		}
		if a.isClosing() {
			return false
		}
		a.failIfDown(err)
		a.logf("python: a new worker could not start (trying again in %v): %v", backoff, err)
		select {
		case <-a.stopping:
			return false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

func (a *App) isClosing() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closing
}

// failIfDown fails the waiting requests with err when no worker is ready:
// they would wait for one that may never come.
func (a *App) failIfDown(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ready := range a.all {
		if ready {
			return
		}
	}
	a.down = fmt.Errorf("python: no worker is running: %w", err)
	for _, w := range a.waiters {
		w <- acquired{err: a.down}
	}
	a.waiters = nil
}

// acquire takes a free channel for one request, waiting for one if need be.
func (a *App) acquire(ctx context.Context) (*channel, error) {
	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
		return nil, ErrClosed
	}
	for len(a.idle) > 0 {
		c := a.idle[len(a.idle)-1]
		a.idle = a.idle[:len(a.idle)-1]
		if !c.w.gone() {
			a.busy++
			a.mu.Unlock()
			return c, nil
		}
	}
	if a.down != nil {
		err := a.down
		a.mu.Unlock()
		return nil, err
	}
	wait := make(chan acquired, 1)
	a.waiters = append(a.waiters, wait)
	a.mu.Unlock()
	select {
	case got := <-wait:
		return got.c, got.err
	case <-ctx.Done():
		a.mu.Lock()
		a.waiters = slices.DeleteFunc(a.waiters, func(w chan acquired) bool { return w == wait })
		a.mu.Unlock()
		select {
		case got := <-wait: // handed over meanwhile
			if got.c != nil {
				a.release(got.c)
			}
		default:
		}
		return nil, ctx.Err()
	}
}

// release returns a channel whose request is over: to a waiting request,
// else to the idle ones.
func (a *App) release(c *channel) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case c.w.gone() || a.closing:
		c.conn.Close()
	case c.w.retired:
		c.conn.Close()
		a.closed(c.w, 1)
	case len(a.waiters) > 0:
		w := a.waiters[0]
		a.waiters = a.waiters[1:]
		w <- acquired{c: c}
		return // still busy, with the next request
	default:
		a.idle = append(a.idle, c)
	}
	a.done()
}

// count counts a request on w, and recycles w once it has served its
// share (Options.MaxRequests).
func (a *App) count(w *worker) {
	if a.opts.MaxRequests <= 0 {
		return
	}
	a.mu.Lock()
	w.served++
	served := w.served // for the log line, read under the lock
	due := served >= w.limit && !w.recycling && !a.closing
	if due {
		w.recycling = true
	}
	a.mu.Unlock()
	if due {
		a.infof("python: worker %d has served %d requests: starting another to take its place (max requests)", w.pid, served)
		go a.recycle(w)
	}
}

// recycle replaces w by a new worker, and retires w once that one serves.
func (a *App) recycle(w *worker) {
	if a.replace() {
		a.retire(w)
	}
}

// retire takes w's channels out of service: the idle ones now, the busy
// ones when their request ends; with the last, w is stopped.
func (a *App) retire(w *worker) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w.retired = true
	if _, ok := a.all[w]; ok {
		a.all[w] = false // not serving: its exit starts no other
	}
	n := 0
	a.idle = slices.DeleteFunc(a.idle, func(c *channel) bool {
		if c.w != w {
			return false
		}
		c.conn.Close()
		n++
		return true
	})
	a.closed(w, n)
}

// closed counts n of a retired worker's channels closed, and stops the
// worker with its last; a.mu is held.
func (a *App) closed(w *worker, n int) {
	w.open -= n
	if w.open == 0 {
		go w.stop()
	}
}

// discard drops a channel whose request broke it: the worker, whose state
// is now unknown, is killed and replaced.
func (a *App) discard(c *channel) {
	c.conn.Close()
	c.w.kill()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done()
}

// done counts one channel less at work; a.mu is held.
func (a *App) done() {
	a.busy--
	if a.busy == 0 && a.drained != nil {
		close(a.drained)
		a.drained = nil
	}
}

// Shutdown stops the app gracefully: new requests fail with [ErrClosed],
// requests in flight run to their end or until ctx is done, and then the
// workers are stopped (each is told to exit, and killed with its process
// group if it has not within a few seconds) and the worker script removed.
// It returns ctx's error if requests were still running.
//
// To swap in a new version of an app, [Start] it, send new requests to it,
// then Shutdown the old one.
func (a *App) Shutdown(ctx context.Context) error {
	a.mu.Lock()
	a.beginClosing()
	var drained chan struct{}
	if a.busy > 0 {
		if a.drained == nil {
			a.drained = make(chan struct{})
		}
		drained = a.drained
	}
	a.mu.Unlock()
	var err error
	if drained != nil {
		select {
		case <-drained:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	a.stopWorkers()
	return err
}

// Close stops the app now: requests in flight fail, and the workers are
// stopped as [App.Shutdown] stops them. Nothing of the app is left running
// or on disk when it returns.
func (a *App) Close() error {
	a.mu.Lock()
	a.beginClosing()
	a.mu.Unlock()
	a.stopWorkers()
	return nil
}

// beginClosing refuses new requests and fails waiting ones; a.mu is held.
func (a *App) beginClosing() {
	if a.closing {
		return
	}
	a.closing = true
	close(a.stopping)
	for _, w := range a.waiters {
		w <- acquired{err: ErrClosed}
	}
	a.waiters = nil
}

// stopWorkers stops every worker process, in parallel, and removes the
// worker script.
func (a *App) stopWorkers() {
	a.stopped.Do(func() {
		a.mu.Lock()
		workers := make([]*worker, 0, len(a.all))
		for w := range a.all {
			workers = append(workers, w)
		}
		for _, c := range a.idle {
			c.conn.Close()
		}
		a.idle = nil
		a.mu.Unlock()
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(w.stop)
		}
		wg.Wait()
		if a.tmp != "" {
			os.RemoveAll(a.tmp)
		}
	})
}
