package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/internal/suggest"
	"github.com/wsgo/wsgo/python"
	"github.com/wsgo/wsgo/reload"
	"github.com/wsgo/wsgo/reload/gobuild"
	"github.com/wsgo/wsgo/reload/pybuild"
	"github.com/wsgo/wsgo/reload/watch"
	"github.com/wsgo/wsgo/serve"
	"github.com/wsgo/wsgo/wsgi"
)

// A Python target names a Python WSGI app (app.py, mysite.wsgi:application,
// shop:create_app()); a Go app's name never holds ".py" or ":".

// parsePythonTarget reads target, and checks at once that a file target's
// file is there: a mistyped name is a usage error, not a page to fix.
func parsePythonTarget(target string) (python.Target, error) {
	t, err := python.ParseTarget(target)
	if err != nil {
		return t, &usageError{err: err}
	}
	if t.File == "" {
		return t, nil
	}
	if _, err := os.Stat(t.File); err != nil {
		msg := fmt.Sprintf("%s: no such file", t.File)
		near, _ := filepath.Glob(filepath.Join(filepath.Dir(t.File), "*.py"))
		if s := suggest.Closest(t.File, near); s != "" {
			msg += fmt.Sprintf("; did you mean %s?", s)
		}
		return t, &usageError{err: errors.New(msg), hint: "Name a Python file and its WSGI callable, as wsgo serve app.py:app, or a module, as wsgo serve mysite.wsgi"}
	}
	return t, nil
}

// startPython starts the workers of a Python app, in development mode,
// and waits until they have imported it.
func (o serveOptions) startPython(ctx context.Context, t python.Target, log *devserver.Logger) (*python.App, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	opts := o.pythonOptions(wd, log)
	opts.Preload = preloadSocket()
	return python.Start(ctx, t, opts)
}

// preloadSocket is the socket of the supervisor's preloader, if it has one,
// taken from the environment once, for every Python app this process
// starts: the apps' environment is their own.
var preloadSocket = sync.OnceValue(func() string {
	s := os.Getenv(envPreload)
	os.Unsetenv(envPreload)
	return s
})

// envPreload names the socket of the supervisor's preloader, for the app
// servers it starts.
const envPreload = "WSGO_PYTHON_PRELOAD"

// pythonOptions are the workers' options, in development.
func (o serveOptions) pythonOptions(dir string, log *devserver.Logger) python.Options {
	return python.Options{
		Python: o.python, Dir: dir, Workers: o.workers, Threads: o.threads, Dev: true,
		Stdout: os.Stderr, // the terminal's log; routes --json owns standard output
		Logf:   func(format string, args ...any) { log.Errorf(" * "+format, args...) },
	}
}

// servePython is wsgo serve TARGET, the supervisor: it serves a Python
// app and restarts its workers on every save of a .py file, beside the old
// ones, unless --no-reload.
func servePython(ctx context.Context, now <-chan struct{}, target string, o serveOptions, log *devserver.Logger) error {
	if _, err := parsePythonTarget(target); err != nil {
		return err
	}
	if err := o.checkPythonFlags(); err != nil {
		return err
	}
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	interp, err := python.FindInterpreter(ctx, o.python, wd)
	switch {
	case ctx.Err() != nil:
		return nil // stopped as it began, as asked
	case err != nil && o.python != "":
		return &usageError{err: fmt.Errorf("invalid --python %q: %v", o.python, err)}
	case err != nil:
		return err
	}
	if err := checkAddr(o.host, o.port); err != nil {
		return err
	}
	if err := o.checkReloadFlags(); err != nil {
		return err
	}
	ln, err := listen(o.host, o.port)
	if err != nil {
		return err
	}
	if url := banner(log, target, o.mounts, ln.Addr().(*net.TCPAddr)); o.open {
		openBrowser(url, log)
	}
	log.Printf(" * Python %s (%s, found by %s)", interp.Version, interp.Path, interp.Source)
	if o.noReload || !reload.Supported {
		log.Notef(" * Reload is off (--no-reload)")
		return o.serveHere(ctx, now, target, ln, log)
	}
	if t, _ := python.ParseTarget(target); t.File != "" && !within(wd, t.File) {
		log.Notef(" * %s is outside %s, which is watched: its saves are not seen; run wsgo serve from the project's directory", t.File, wd)
	}
	sup, stop, err := o.pythonSupervisor(ctx, ln.(*net.TCPListener), target, log, now)
	if err != nil {
		return err
	}
	defer stop()
	return sup.Run(ctx)
}

// pythonSupervisor assembles the supervisor of a server whose apps are
// Python's, or Go's built into this program beside Python ones: a save of a
// .py file below the working directory starts a new server, whose workers
// import the new code. For a Python target, workers are forked from a
// preloader that has imported the target's dependencies. stop ends the
// watcher and the preloader.
func (o serveOptions) pythonSupervisor(ctx context.Context, ln *net.TCPListener, target string, log *devserver.Logger, now <-chan struct{}) (sup *reload.Supervisor, stop func(), err error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	w, err := watch.New(wd, watch.Options{Rules: pybuild.Rules, Delay: o.delay, Watch: o.watch, Exclude: o.exclude, Assets: o.assets, Poll: o.poll})
	if err != nil {
		return nil, nil, err
	}
	o.describePythonWatch(log, wd, w)
	stops := []func() error{w.Close}
	stop = func() {
		for _, f := range stops {
			f()
		}
	}
	b := &pybuild.Builder{Root: wd, Argv: asAppServer.argv(self)}
	if t, err := python.ParseTarget(target); err == nil && target != "" && !o.noPreload {
		p, err := python.StartPreloader(ctx, t, o.pythonOptions(wd, log))
		if err != nil {
			log.Notef(" * Workers start from a fresh interpreter: the preloader did not start (%v)", err)
		} else {
			stops = append(stops, p.Close)
			b.Env = []string{envPreload + "=" + p.Socket}
		}
	}
	sup, err = o.supervisor(ln, b, nil, w, log, now)
	if err != nil {
		stop()
		return nil, nil, err
	}
	sup.Words = reload.Words{Change: "starting new workers", Next: "a save fixes it", Refused: "The app could not be loaded"}
	return sup, stop, nil
}

func (o serveOptions) describePythonWatch(log *devserver.Logger, root string, w *watch.Watcher) {
	dirs, files := w.Stats()
	log.Printf(" * Watching %s: %s, %s the app reads", root, plural(dirs, "directory", "directories"), plural(files, "file", "files"))
	if every, why := w.Polling(); every > 0 {
		log.Printf(" * Watching by polling every %v (%s)", every, why)
	}
	log.Printf(" * Reload is on: a save of a .py file starts new workers beside the old; press Enter to restart now")
}

// served is what a server process serves: the app at the root with the
// apps mounted beside it, and what stops the Python workers among them.
type served struct {
	name  string
	app   wsgi.App
	stops []func(context.Context) error
}

// close stops the Python workers, letting what they serve finish first.
func (s served) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, stop := range s.stops {
		stop(ctx)
	}
}

// resolve finds an app by name: a Go app registered in this program, or a
// Python target, whose workers it starts.
func (o serveOptions) resolve(ctx context.Context, name string, s *served, log *devserver.Logger) (wsgi.Entry, error) {
	if !isPythonTarget(name) {
		return lookupApp(name)
	}
	// The file's absence is checked as wsgo serve starts; in a server
	// process, a file deleted since is what a save puts back, and the
	// workers say so.
	t, err := python.ParseTarget(name)
	if o.role == asSupervisor && err == nil {
		t, err = parsePythonTarget(name)
	}
	if err != nil {
		return wsgi.Entry{}, &usageError{err: err}
	}
	if err := o.checkPythonFlags(); err != nil {
		return wsgi.Entry{}, err
	}
	app, err := o.startPython(ctx, t, log)
	if err != nil {
		return wsgi.Entry{}, err
	}
	s.stops = append(s.stops, app.Shutdown)
	about := "Python WSGI app"
	if fw := app.Routes().Framework; fw != "wsgi" {
		about = "Python " + fw + " app"
	}
	return wsgi.Entry{Name: name, App: pythonApp{app}, Description: about}, nil
}

// pythonApp is a Python app as a Go one lists its routes: a Flask app's
// URL rules, one route a method, as flask routes shows them (without HEAD
// and OPTIONS, which every rule answers).
type pythonApp struct{ *python.App }

func (p pythonApp) Routes() []wsgi.Route {
	rules := p.App.Routes().Rules
	if len(rules) == 0 {
		return []wsgi.Route{{Path: "/{path...}", Endpoint: p.Target().String()}}
	}
	var routes []wsgi.Route
	for _, r := range rules {
		for _, m := range r.Methods {
			if m != "HEAD" && m != "OPTIONS" {
				routes = append(routes, wsgi.Route{Method: m, Path: r.Rule, Endpoint: r.Endpoint})
			}
		}
	}
	return routes
}

// pythonLoadFailed tells whether err is a Python app that would not load,
// which a save can fix, unlike a name on the command line.
func pythonLoadFailed(err error) bool {
	var le *python.LoadError
	return errors.As(err, &le)
}

// isPythonTarget reports whether name is a Python target: one with ".py"
// or ":", or the dotted name of a Python module in the working directory
// (mysite.wsgi, for mysite/wsgi.py) that is no Go app's name.
func isPythonTarget(name string) bool {
	if python.IsTarget(name) {
		return true
	}
	_, goApp := wsgi.Lookup(name)
	return !goApp && pythonModuleNamed(name)
}

// appKind says what kind of app name names, for the banner.
func appKind(name string) string {
	if isPythonTarget(name) {
		return "Python app"
	}
	return "wsgo app"
}

// pythonModuleNamed tells whether name is a Python module in the working
// directory: site.wsgi for site/wsgi.py or site/wsgi/__init__.py.
func pythonModuleNamed(name string) bool {
	if name == "" || strings.ContainsAny(name, "/:") {
		return false
	}
	path := strings.ReplaceAll(name, ".", string(filepath.Separator))
	for _, f := range []string{path + ".py", filepath.Join(path, "__init__.py")} {
		if _, err := os.Stat(f); err == nil {
			return true
		}
	}
	return false
}

// checkPythonFlags rejects worker counts that cannot be meant.
func (o serveOptions) checkPythonFlags() error {
	if o.workers < 1 {
		return invalidValue("workers", fmt.Sprint(o.workers), "want 1 or more worker processes")
	}
	if o.threads < 1 {
		return invalidValue("threads", fmt.Sprint(o.threads), "want 1 or more threads a worker")
	}
	return nil
}

// within reports whether the file at path is at or below dir.
func within(dir, path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(dir, abs)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// mountsPython reports whether a Python app is mounted beside the app to
// serve.
func (o serveOptions) mountsPython() bool {
	for _, m := range o.mounts {
		if _, app, err := serve.ParseMount(m); err == nil && isPythonTarget(app) {
			return true
		}
	}
	return false
}

// withPython is a Go builder for a server with Python apps mounted: a save
// of a .py file below root starts a new server, since its programs are
// named by the Go build and the Python sources both.
type withPython struct {
	reload.Builder
	root string
}

func (b withPython) Build(ctx context.Context) (*reload.Program, error) {
	prog, err := b.Builder.Build(ctx)
	if err != nil {
		return nil, err
	}
	return b.named(ctx, prog)
}

// named adds the Python sources' digest to prog's identity.
func (b withPython) named(ctx context.Context, prog *reload.Program) (*reload.Program, error) {
	digest, err := pybuild.Digest(ctx, b.root)
	if err != nil {
		return nil, err
	}
	if prog.ID != "" {
		prog.ID += "+" + digest
	}
	return prog, nil
}

// goAndPythonRules are Go's rules with Python's sources and assets too.
var goAndPythonRules = watch.Rules{
	Source:  func(name string) bool { return gobuild.Rules.Source(name) || pybuild.Rules.Source(name) },
	SkipDir: func(dir string) bool { return gobuild.Rules.SkipDir(dir) || pybuild.Rules.SkipDir(dir) },
	Assets:  append(slices.Clone(gobuild.Rules.Assets), pybuild.Rules.Assets...),
}

// withMounted is b, or, with Python apps mounted, b with their sources in
// its programs' identity; first, the program running first, is named so too.
func (o serveOptions) withMounted(b reload.Builder, root string, first *reload.Program) reload.Builder {
	if !o.mountsPython() {
		return b
	}
	wp := withPython{Builder: b, root: root}
	if first != nil {
		wp.named(context.Background(), first)
	}
	return wp
}
