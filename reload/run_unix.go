//go:build unix

package reload

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsgo/wsgo/reload/control"
)

// Supported reports whether this system can run a Supervisor.
const Supported = true

// errorPageTimeout is how long the error-page server may take to start.
const errorPageTimeout = 30 * time.Second

// result is the outcome of one build-and-start.
type result struct {
	proc      *proc         // ready server, nil otherwise
	program   string        // the build id of the program it runs
	keep      *Program      // the program proc runs, kept to restart it from
	unchanged bool          // the build made the program that already runs
	title     string        // one line: "Build failed in 1.2s", "Server exited before it was ready"
	problem   string        // compiler output or crash, for the error page
	shown     bool          // problem was already in the terminal, as the server wrote it
	built     time.Duration // time in the build
	ready     time.Duration // time from start to ready
}

// supervision is the state of one Run.
type supervision struct {
	s       *Supervisor
	ctx     context.Context // Run's
	spec    procSpec
	current *proc
	program string    // build id of the program current runs; "" for an error page
	since   time.Time // when current became the server

	// Owned by the Run loop alone.
	buildCtx    context.Context
	cancelBuild context.CancelFunc
	last        *Program // Production: the program that last became ready
	restarts    int      // restarts in a row that kept no server up
	retry       *time.Timer
	retryC      <-chan time.Time // the next restart is due; nil if none is
	gaveUp      error            // MaxRestarts restarts failed: Run ends

	results  chan result
	exits    chan *proc
	stopping chan struct{} // closed when Run starts to stop
	done     chan struct{} // closed when Run returns
	builds   sync.WaitGroup
	drains   sync.WaitGroup
	standby  standby

	mu     sync.Mutex
	live   map[*proc]bool // every server started and not yet exited
	coming int            // builds, starts and error pages under way
	closed bool           // Run is stopping: the standby stays off
	served bool           // a server has been ready: in production, the standby answers while the next starts
	n      int            // servers started, for their build ids
}

// settled is how long a server must serve for the restarts before it to
// count as over: one that stops sooner adds to them.
const settled = 10 * time.Second

// Run supervises until ctx is done, then drains the servers and returns
// nil, or an error naming the requests cut short. When Abort is closed
// meanwhile, it kills them at once and says so. It returns an error, too,
// when MaxRestarts restarts in a row kept no server up.
func (s *Supervisor) Run(ctx context.Context) error {
	c, err := s.newCycle(ctx)
	if err != nil {
		return err
	}
	defer c.spec.socket.Close()
	defer close(c.done)
	defer c.standby.wait()

	keys := make(chan struct{}, 1)
	if s.Keys != nil {
		go readKeys(s.Keys, keys)
	}
	c.buildCtx, c.cancelBuild = context.WithCancel(ctx)
	defer func() { c.cancelBuild() }()
	if s.First != nil {
		c.begin(func(ctx context.Context) result { return c.start(ctx, s.First, 0, s.Production) })
	} else {
		c.rebuild(true)
	}
	for {
		select {
		case ch := <-s.Changes:
			c.change(ch)
		case <-keys:
			s.Log.Printf(" * Rebuilding and restarting, as asked")
			c.fresh()
			c.rebuild(true)
		case r := <-c.results:
			c.settle(r)
		case p := <-c.exits:
			if p == c.current && !p.isDraining() {
				c.stoppedByItself(p)
			}
		case <-c.retryC:
			c.retryC = nil
			c.restart()
		case err := <-s.Errors:
			s.Log.Errorf(" * %v", err)
		case <-ctx.Done():
			return c.stop()
		case <-s.Abort:
			return c.stop()
		}
		if c.gaveUp != nil {
			return errors.Join(c.gaveUp, c.stop())
		}
	}
}

// change acts on one Change: a build, or pages to reload. A change is the
// user's doing, or a deploy's: the restarts in a row start over.
func (c *supervision) change(ch Change) {
	log := c.s.Log
	paths := ch.Paths
	if ch.Rescan {
		paths = append([]string{"(events were lost: rescanned)"}, paths...)
	}
	switch {
	case ch.Why != "":
		log.Printf(" * %s", ch.Why)
		c.fresh()
		c.rebuild(true)
	case len(paths) == 0:
		c.reloadPages(ch.Assets)
	default:
		log.Printf(" * %s changed: %s", summarize(paths), c.s.Words.Change)
		c.fresh()
		c.rebuild(false)
	}
}

// begin cancels the build or start under way, if any, and runs f with a
// context of its own.
func (c *supervision) begin(f func(ctx context.Context) result) {
	c.cancelBuild()
	c.buildCtx, c.cancelBuild = context.WithCancel(c.ctx)
	ctx := c.buildCtx
	c.spawn(func() result { return f(ctx) })
}

// rebuild asks the Builder for the program and starts it. A forced one
// restarts the server even when the program is the same.
func (c *supervision) rebuild(force bool) {
	c.begin(func(ctx context.Context) result { return c.build(ctx, force) })
}

func (s *Supervisor) newCycle(ctx context.Context) (*supervision, error) {
	if s.Log == nil || s.Builder == nil || s.Listener == nil {
		return nil, errors.New("reload: a Supervisor needs a Listener, a Builder and a Log")
	}
	if s.Stderr == nil {
		s.Stderr = os.Stderr
	}
	s.Words = s.Words.orGo()
	if s.Grace <= 0 {
		s.Grace = 5 * time.Second
	}
	if s.ReadyTimeout <= 0 {
		s.ReadyTimeout = time.Minute
	}
	if s.Backoff <= 0 {
		s.Backoff = 500 * time.Millisecond
	}
	if s.MaxBackoff <= 0 {
		s.MaxBackoff = 10 * time.Second
	}
	socket, err := dupSocket(s.Listener)
	if err != nil {
		return nil, err
	}
	c := &supervision{
		s:        s,
		ctx:      ctx,
		spec:     procSpec{socket: socket, output: s.Stderr, stderr: s.Stderr, color: s.Color},
		results:  make(chan result),
		exits:    make(chan *proc, 4),
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
		live:     map[*proc]bool{},
		standby:  standby{socket: socket},
	}
	return c, nil
}

// dupSocket returns a duplicate of ln's descriptor for servers to inherit.
// Unlike ln.File, it leaves the shared socket non-blocking: File's result
// switches it to blocking mode when passed to a process, for every server
// sharing it, and a server whose accept then blocks in the kernel can take
// a connection while it closes and leave it unanswered.
func dupSocket(ln *net.TCPListener) (*os.File, error) {
	rc, err := ln.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("reload: socket: %w", err)
	}
	var fd int
	var dupErr error
	if err := rc.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, fmt.Errorf("reload: socket: %w", err)
	}
	if dupErr != nil {
		return nil, fmt.Errorf("reload: socket: %w", os.NewSyscallError("dup", dupErr))
	}
	return os.NewFile(uintptr(fd), "listener"), nil
}

// spawn runs f in the background and delivers its result, or, once Run is
// stopping, stops the server it started so that none is left behind.
func (c *supervision) spawn(f func() result) {
	c.builds.Add(1)
	c.busy(1)
	go func() {
		defer c.builds.Done()
		r := f()
		c.busy(-1)
		select {
		case c.results <- r:
		case <-c.stopping:
			if r.proc != nil {
				r.proc.kill()
			}
			r.keep.discard()
		}
	}()
}

// busy counts a build, start or error page that begins (1) or ends (-1):
// while one is under way, the standby must not accept.
func (c *supervision) busy(delta int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.coming += delta
	c.syncStandby()
}

// syncStandby starts the standby when no server is alive or coming, and
// stops it otherwise, before a server can start. In production, once a
// server has served, it answers until the next one is ready, beside it if
// need be: a restart that takes long keeps no client waiting, and what it
// accepts once the new server is ready is only a 503 more. c.mu is held.
func (c *supervision) syncStandby() {
	starting := c.coming > 0 || len(c.live) > 0
	if c.closed || c.current != nil || starting && !(c.s.Production && c.served) {
		c.standby.stop()
		return
	}
	if err := c.standby.start(); err != nil {
		c.s.Log.Errorf(" * Nothing serves, and requests wait: %v", err)
	}
}

// settle acts on a build's result: swap in its server, keep the running one,
// show the problem, or try again later.
func (c *supervision) settle(r result) {
	log := c.s.Log
	switch {
	case r.proc != nil:
		if c.s.Production {
			r.built = 0 // copying a program is no build
		}
		log.Successf(" * %s pid %d", readyLine(r), r.proc.pid())
		c.swap(r.proc, r.program)
		if r.keep != nil {
			c.last.discard()
			c.last = r.keep
		}
	case r.unchanged:
		log.Printf(" * No change to the program (built in %s); the running server goes on", round(r.built))
	case r.title == "":
		// cancelled by a newer change
	case c.current != nil && (c.s.KeepOnFailure || c.s.Fallback == nil):
		log.Errorf(" * %s; the running server goes on%s", r.title, detail(r))
	case c.s.Fallback == nil:
		log.Errorf(" * %s%s", r.title, detail(r))
		c.again(r.title)
	default:
		if r.shown || r.problem == "" {
			log.Errorf(" * %s; the error page is served until %s", r.title, c.s.Words.Next)
		} else {
			log.Errorf(" * %s; the error page is served until %s:\n%s", r.title, c.s.Words.Next, indent(r.problem))
		}
		if p := c.errorPage(r.title + "\n\n" + r.problem); p != nil {
			c.swap(p, "")
		}
	}
}

// swap makes next the current server and drains the one it replaces.
func (c *supervision) swap(next *proc, program string) {
	old := c.current
	c.mu.Lock()
	c.current, c.program, c.since = next, program, time.Now()
	c.served = c.served || next != nil
	c.syncStandby()
	c.mu.Unlock()
	if old == nil || old == next {
		return
	}
	c.drains.Add(1)
	go func() {
		defer c.drains.Done()
		killed := old.drain(control.Handover, c.s.Grace)
		if cut := old.cutShort(); len(cut) > 0 || killed {
			c.s.Log.Errorf(" * The previous server (pid %d) still had requests in flight after %s; cut off: %s",
				old.pid(), c.limit("grace", c.s.Grace), describeCut(cut, killed))
		}
	}()
}

// launch starts a server process and tracks it until it exits.
func (c *supervision) launch(prog *Program, problem string) (*proc, error) {
	c.mu.Lock()
	c.n++
	id := strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(c.n)
	c.mu.Unlock()
	p, err := startProc(prog, c.spec, id, problem)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.live[p] = true
	c.mu.Unlock()
	go func() {
		<-p.exited
		c.mu.Lock()
		delete(c.live, p)
		c.syncStandby()
		c.mu.Unlock()
		select {
		case c.exits <- p:
		case <-c.done:
		}
	}()
	return p, nil
}

// build builds the program and starts it, unless it is the program that
// runs already and the build was not forced.
func (c *supervision) build(ctx context.Context, force bool) result {
	began := time.Now()
	prog, err := c.s.Builder.Build(ctx)
	built := time.Since(began)
	if ctx.Err() != nil {
		if err == nil {
			prog.discard()
		}
		return result{}
	}
	if err != nil {
		return c.buildFailed(err, built)
	}
	if !force && prog.ID != "" && prog.ID == c.runningProgram() {
		prog.discard()
		return result{unchanged: true, built: built}
	}
	if !prog.Temporary {
		built = 0 // nothing was built: the program reads its source as it starts
	}
	return c.start(ctx, prog, built, c.s.Production)
}

// buildFailed says what went wrong in a build, or, in production, in
// taking the program on disk.
func (c *supervision) buildFailed(err error, built time.Duration) result {
	var be *BuildError
	switch {
	case errors.As(err, &be) && c.s.Production:
		return result{title: "The program could not be taken (" + be.Command + ")", problem: strings.TrimSpace(be.Output)}
	case errors.As(err, &be):
		return result{title: fmt.Sprintf("Build failed in %s (%s)", round(built), be.Command), problem: strings.TrimSpace(be.Output), built: built}
	case c.s.Production:
		return result{title: "The program could not be taken", problem: err.Error()}
	}
	return result{title: "Build failed", problem: err.Error(), built: built}
}

// discard removes what a build made for the supervisor alone.
func (p *Program) discard() {
	if p != nil && p.Temporary && len(p.Argv) > 0 {
		os.Remove(p.Argv[0])
	}
}

// runningProgram is the ID of what the current server runs: the Run loop
// writes it, builds read it.
func (c *supervision) runningProgram() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.program
}

// start runs prog and waits until it is ready, exits, takes too long, or
// ctx is cancelled. A temporary program is removed once it runs (a script
// may be read after exec) or has failed to; unless it is to be kept, and
// became ready: then the result holds it, to restart from.
func (c *supervision) start(ctx context.Context, prog *Program, built time.Duration, keep bool) result {
	began := time.Now()
	p, err := c.launch(prog, "")
	if err != nil {
		prog.discard()
		return result{title: "Server could not start", problem: err.Error(), built: built}
	}
	ok, r := c.awaitReady(ctx, p, true)
	if !ok {
		prog.discard()
		r.built = built
		return r
	}
	r = result{proc: p, program: prog.ID, built: built, ready: time.Since(began)}
	if keep {
		r.keep = prog
	} else {
		prog.discard()
	}
	return r
}

// awaitReady waits for p to say it is ready. It says so in the terminal if
// that takes long, and gives up after ReadyTimeout.
func (c *supervision) awaitReady(ctx context.Context, p *proc, notice bool) (bool, result) {
	timeout := c.s.ReadyTimeout
	if !notice {
		// The error page is wsgo's own, which --ready-timeout is not about.
		timeout = max(timeout, errorPageTimeout)
	}
	patience := min(5*time.Second, timeout/2)
	slow := time.NewTimer(patience)
	defer slow.Stop()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case <-p.ready:
			return true, result{}
		case <-p.exited:
			if why := p.refusal(); why != "" {
				return false, result{title: c.s.Words.Refused, problem: why}
			}
			return false, result{title: fmt.Sprintf("Server exited before it was ready (%s)", p.exitReason()),
				problem: strings.TrimSpace(p.output.String()), shown: true}
		case <-slow.C:
			if notice {
				c.s.Log.Printf(" * The new server (pid %d) has not said it is ready after %s; %s (%s)",
					p.pid(), round(patience), c.meanwhile(), c.limit("ready-timeout", c.s.ReadyTimeout))
			}
		case <-deadline.C:
			p.kill()
			return false, result{title: fmt.Sprintf("Server was not ready after %s, and was stopped", c.limit("ready-timeout", timeout)),
				problem: strings.TrimSpace(p.output.String()), shown: true}
		case <-ctx.Done():
			p.kill()
			return false, result{}
		}
	}
}

// reloadPages asks the current server to reload the pages it served: what
// they show changed on disk, not in the program. Stylesheets alone are
// swapped in place, so that a page keeps its scroll position and input.
func (c *supervision) reloadPages(assets []string) {
	msg, what := control.ReloadStyles, "the stylesheets"
	for _, a := range assets {
		if !strings.HasSuffix(a, ".css") {
			msg, what = control.ReloadPages, "the pages"
		}
	}
	c.s.Log.Printf(" * %s changed: reloading %s, no build", summarize(assets), what)
	c.mu.Lock()
	p := c.current
	c.mu.Unlock()
	if p != nil {
		p.ctl.Send(msg)
	}
}

// meanwhile says what serves while a new server starts.
func (c *supervision) meanwhile() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current == nil {
		return "requests wait for it"
	}
	return "the running one goes on serving"
}

// errorPage starts the error-page server showing problem, if there is one.
func (c *supervision) errorPage(problem string) *proc {
	if c.s.Fallback == nil {
		return nil
	}
	c.busy(1)
	defer c.busy(-1)
	p, err := c.launch(c.s.Fallback, problem)
	if err != nil {
		c.s.Log.Errorf(" * The error page could not start either: %v", err)
		return nil
	}
	ok, r := c.awaitReady(c.ctx, p, false)
	if !ok && r.title != "" {
		c.s.Log.Errorf(" * The error page did not start: %s", r.title)
		return nil
	}
	if !ok {
		return nil
	}
	return p
}

// stop ends Run: no build goes on, the current server drains, and so do
// those still draining from a swap. Abort stops them all at once instead.
func (c *supervision) stop() error {
	c.cancelBuild()
	c.cancelRetry()
	close(c.stopping)
	c.mu.Lock()
	c.closed = true
	c.syncStandby()
	c.mu.Unlock()
	// New connections are refused, not queued for a server that drains:
	// its own copy of the socket closes as it begins to.
	c.spec.socket.Close()
	c.s.Listener.Close()
	defer c.last.discard()
	finished := make(chan error, 1)
	go func() { finished <- c.drainAll() }()
	select {
	case err := <-finished:
		return err
	case <-c.s.Abort:
		cut, killed := c.stopNow()
		<-finished
		if len(cut) == 0 && !killed {
			c.s.Log.Printf(" * Stopped at once, as asked; no request was in flight")
			return nil
		}
		return fmt.Errorf("stopped at once, as asked; cut off: %s", describeCut(cut, killed))
	}
}

// stopNow tells every server to cut its requests short and exit, kills
// those that have not within a moment, and returns what they cut off.
func (c *supervision) stopNow() (cut []string, killed bool) {
	c.mu.Lock()
	procs := make([]*proc, 0, len(c.live))
	for p := range c.live {
		procs = append(procs, p)
	}
	c.mu.Unlock()
	for _, p := range procs {
		if p.ctl.Send(control.StopNow) != nil {
			p.kill()
		}
	}
	moment := time.After(2 * time.Second)
	for _, p := range procs {
		select {
		case <-p.exited:
		case <-moment:
			p.kill()
			killed = true
		}
		cut = append(cut, p.cutShort()...)
	}
	return cut, killed
}

func (c *supervision) drainAll() error {
	c.builds.Wait()
	defer c.drains.Wait()
	if c.current == nil {
		return nil
	}
	again := "Ctrl-C again to stop now"
	if c.s.Production {
		again = "a second SIGTERM or SIGINT stops at once"
	}
	c.s.Log.Printf(" * Stopping: letting requests in flight finish (%s)", again)
	killed := c.current.drain(control.Stop, c.s.Grace)
	if cut := c.current.cutShort(); len(cut) > 0 || killed {
		return fmt.Errorf("stopped after %s with requests still in flight; cut off: %s", c.limit("grace", c.s.Grace), describeCut(cut, killed))
	}
	return nil
}

func describeCut(cut []string, killed bool) string {
	if len(cut) == 0 && killed {
		return "whatever the server was doing (it did not stop by itself and was killed)"
	}
	return strings.Join(cut, ", ")
}

func readKeys(r io.Reader, keys chan<- struct{}) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line == "" || line == "r" {
			select {
			case keys <- struct{}{}:
			default:
			}
		}
	}
}

// summarize names the first changed path and counts the rest.
func summarize(paths []string) string {
	switch len(paths) {
	case 0:
		return "Nothing"
	case 1:
		return printable(paths[0])
	case 2:
		return printable(paths[0]) + " and 1 more file"
	}
	return fmt.Sprintf("%s and %d more files", printable(paths[0]), len(paths)-1)
}

// printable quotes a file name that holds what a terminal would act on (a
// name is anyone's to choose, escape sequences included).
func printable(name string) string {
	if strings.IndexFunc(name, func(r rune) bool { return !strconv.IsPrint(r) }) < 0 {
		return name
	}
	return strconv.Quote(name)
}

func readyLine(r result) string {
	if r.built == 0 {
		return fmt.Sprintf("Ready in %s:", round(r.ready))
	}
	return fmt.Sprintf("Built in %s, ready in %s:", round(r.built), round(r.ready))
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func indent(s string) string {
	return "   " + strings.ReplaceAll(s, "\n", "\n   ")
}
