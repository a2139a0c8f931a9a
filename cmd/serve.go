package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/internal/gcpace"
	"github.com/wsgo/wsgo/python"
	"github.com/wsgo/wsgo/reload"
	"github.com/wsgo/wsgo/reload/control"
	"github.com/wsgo/wsgo/reload/gobuild"
	"github.com/wsgo/wsgo/reload/watch"
	"github.com/wsgo/wsgo/serve"
	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/validate"
)

type serveOptions struct {
	host     string
	port     int
	grace    time.Duration
	noColor  bool
	noReload bool
	delay    time.Duration
	watch    []string
	exclude  []string
	mounts   []string
	noCheck  bool

	readyTimeout time.Duration
	debugInfo    bool
	open         bool
	assets       []string
	poll         time.Duration // 0: events, unless they cannot be trusted
	pollBy       string        // what asked for polling: --poll or WSGO_POLL
	editor       string
	python       string          // the Python interpreter, for a Python target
	workers      int             // Python worker processes
	threads      int             // threads a Python worker serves requests on
	noPreload    bool            // start each Python worker from a fresh interpreter
	pages        devserver.Pages // the error pages, their links opening editor
	role         role            // which part this process plays; see roles.go
}

// logBatch is how long request log lines may wait to be written together:
// too short to see, long enough that a busy server writes one line in a
// hundred on its own.
const logBatch = 20 * time.Millisecond

func newServe() *cobra.Command {
	var o serveOptions
	c := &cobra.Command{
		Use:   "serve APP",
		Short: "Serve a registered app on a local port",
		Long: `Serve the app registered under APP on http://HOST:PORT.

The server binds 127.0.0.1 unless told otherwise. Ctrl-C (or SIGTERM) stops
it after the requests in flight have finished; a second Ctrl-C stops it at once.

Reload is on by default: wsgo watches the program's module, rebuilds it on
every save, and swaps the new server in once it is ready, on the same socket,
so no request is refused or dropped. A failed build is shown on an error page
until the next good one. Press Enter to rebuild at any time.

Apps run under the validator, which answers 500 in place of a response that
breaks the contract (wsgiref.validate's rules); --no-validate turns it off.`,
		Example: `  wsgo serve demo
  wsgo serve demo --port 8080
  wsgo serve demo --host 0.0.0.0   # reachable from the network: be careful
  wsgo serve demo --mount /hello=hello   # hello below /hello, demo for the rest
  wsgo serve demo --no-reload
  wsgo serve demo --poll   # in a container or VM whose mounts report no changes
  wsgo serve demo --watch templates --exclude 'generated/*'`,
		Args:              appArg,
		ValidArgsFunction: completeApps,
		RunE: func(c *cobra.Command, args []string) error {
			// Before anything is printed: a Ctrl-C is honoured from here on.
			stop := catchInterrupts(c.Context())
			defer stop.release()
			gcpace.Tune() // a dev server's heap is small and short-lived
			o.noColor, _ = c.Flags().GetBool("no-color")
			if err := flagsFromEnv(c, map[string]string{"host": "WSGO_HOST", "port": "WSGO_PORT", "poll": "WSGO_POLL", "editor": "WSGO_EDITOR"}); err != nil {
				return err
			}
			if err := o.pollFlag(c.Flags().Lookup("poll")); err != nil {
				return err
			}
			ed, err := devserver.ParseEditor(o.editor)
			if err != nil {
				return invalidValue("editor", strconv.Quote(o.editor), err.Error())
			}
			o.pages.Editor = ed
			return runServe(stop.ctx, stop.now, args[0], o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.host, "host", "127.0.0.1", "address to listen on (or WSGO_HOST)")
	o.port = 8000
	f.Var((*portValue)(&o.port), "port", "port to listen on, 0 for any free one (or WSGO_PORT)")
	f.DurationVar(&o.grace, "grace", 5*time.Second, "how long in-flight requests may take to finish when stopping or swapping")
	f.DurationVar(&o.readyTimeout, "ready-timeout", time.Minute, "how long a rebuilt server may take to start before it is stopped and its output shown")
	f.StringSliceVar(&o.assets, "assets", nil, "patterns of files the program reads at run time, whose change reloads the pages without a build (default "+strings.Join(gobuild.Rules.Assets, ",")+"; an embedded file still builds)")
	f.StringVar(&o.editor, "editor", devserver.DefaultEditor, "editor the error pages' file:line links open: "+strings.Join(devserver.EditorNames(), ", ")+", none, or a URL template such as 'zed://file{file}:{line}' (or WSGO_EDITOR)")
	f.BoolVar(&o.open, "open", false, "open the app in the browser once it is served ($BROWSER, else xdg-open or open); never again on a rebuild")
	f.BoolVar(&o.debugInfo, "debug-info", false, "build rebuilt servers with debug information and version-control stamps, as go build does (slower builds)")
	f.BoolVar(&o.noReload, "no-reload", false, "do not rebuild and swap the server when the source changes")
	f.DurationVar(&o.delay, "delay", 50*time.Millisecond, "quiet period after a change before rebuilding")
	f.StringArrayVar(&o.watch, "watch", nil, "also rebuild when files at or below this path change (repeatable)")
	f.BoolVar(&o.noCheck, "no-validate", false, "do not check apps against the contract (wsgiref.validate's rules)")
	f.StringArrayVar(&o.mounts, "mount", nil, "also serve app APP below PREFIX, as PREFIX=APP (repeatable)")
	f.Var((*pollValue)(&o.poll), "poll", "watch by looking at the files every interval, as --poll=500ms (--poll alone: "+watch.DefaultPoll.String()+"), where the file system reports no changes; on by itself on network, FUSE and 9p mounts (or WSGO_POLL)")
	f.Lookup("poll").NoOptDefVal = watch.DefaultPoll.String()
	f.StringVar(&o.python, "python", "", "for a Python target: the interpreter, a path or a command (or WSGO_PYTHON; else the active virtual environment's, .venv/bin/python, or python3)")
	f.IntVar(&o.workers, "workers", 1, "for a Python target: worker processes (each imports the app; in-memory state is not shared between them)")
	f.IntVar(&o.threads, "threads", python.DefaultThreads, "for a Python target: requests each worker serves at once, a thread each")
	f.BoolVar(&o.noPreload, "no-preload", false, "for a Python target: start workers from a fresh interpreter on every save, not from a process that has imported the app's dependencies")
	f.Var(&o.role, roleFlag, "the part this process plays under wsgo serve's supervisor")
	f.MarkHidden(roleFlag)
	f.StringArrayVar(&o.exclude, "exclude", nil, "never rebuild for paths matching this pattern, on the base name or the path from the module root (repeatable)")
	return c
}

// appArg checks that exactly one app is named, and that it is registered.
func appArg(c *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return &usageError{err: errors.New("which app? name one to serve"), hint: usageWithApps(c)}
	case len(args) > 1 && pollSpaced(c, args):
		return usageErrorf("--poll takes its interval after an equals sign: --poll=%s (alone, --poll polls every %s)", args[1], c.Flags().Lookup("poll").NoOptDefVal)
	case len(args) > 1:
		return &usageError{err: fmt.Errorf("serve takes one app, got %d: %s", len(args), strings.Join(args, " ")), hint: usageWithApps(c)}
	}
	return nil // whether it exists depends on where wsgo runs: see runServe
}

// pollSpaced tells whether the second argument is an interval meant for
// --poll, which takes one only after "=".
func pollSpaced(c *cobra.Command, args []string) bool {
	f := c.Flags().Lookup("poll")
	if f == nil || !f.Changed || f.Value.String() != f.NoOptDefVal {
		return false
	}
	_, err := time.ParseDuration(args[1])
	return err == nil
}

func usageWithApps(c *cobra.Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n\nRegistered apps:\n", c.UseLine())
	for _, name := range wsgi.Names() {
		e, _ := wsgi.Lookup(name)
		fmt.Fprintf(&b, "  %-12s %s\n", name, e.Description)
	}
	return strings.TrimRight(b.String(), "\n")
}

// lookupApp finds a registered app, or says what the user may have meant,
// and why a name the source registers may be missing from this binary.
func lookupApp(name string) (wsgi.Entry, error) {
	e, err := serve.Lookup(name)
	if err == nil {
		return e, nil
	}
	ue := &usageError{err: err}
	if file := sourceRegistering(name); file != "" {
		ue.hint = fmt.Sprintf("%s registers %q, but this wsgo binary was built without it: rebuild it (go install or go build where its main package is), or run the source with go run . in place of wsgo.", file, name)
	}
	return wsgi.Entry{}, ue
}

func runServe(ctx context.Context, now <-chan struct{}, name string, o serveOptions) error {
	switch o.role {
	case asAppServer:
		return serveAppServer(ctx, name, o)
	case asErrorPage:
		return serveErrorPage(ctx, o)
	}
	log := devserver.NewLogger(os.Stderr, o.colorOn())
	log.Batch(logBatch)
	defer log.Flush()
	if isPythonTarget(name) {
		return servePython(ctx, now, name, o, log)
	}
	if _, goApp := wsgi.Lookup(name); !goApp && strings.Contains(name, ".") && !strings.ContainsAny(name, "/") {
		return &usageError{err: fmt.Errorf("unknown app %q: no Go app has that name, and there is no Python module %s here (%s.py)", name, name, strings.ReplaceAll(name, ".", "/")),
			hint: "Run wsgo where the module is, or name a file: wsgo serve path/to/app.py:app"}
	}
	// Under socket activation this binary's own apps are served: systemd
	// started it to serve, not to build a module's apps.
	if m, err := locate(name); os.Getenv("LISTEN_FDS") == "" && (m != nil || err != nil) {
		if err != nil {
			return err
		}
		return serveProject(ctx, now, m, name, o, log)
	}
	if err := checkAddr(o.host, o.port); err != nil {
		return err
	}
	if err := o.checkReloadFlags(); err != nil {
		return err
	}
	if err := o.checkApps(name); err != nil {
		return err
	}
	if os.Getenv("LISTEN_FDS") != "" { // systemd socket activation
		ln, err := control.Listener()
		if err != nil {
			return err
		}
		if ln != nil {
			log.Printf(" * Serving wsgo app %q on the socket passed in (LISTEN_FDS), at http://%s", name, ln.Addr())
			log.Notef(" * Reload is off: the socket belongs to whoever started wsgo (systemd)")
			return o.serveHere(ctx, now, name, ln, log)
		}
	}

	ln, err := listen(o.host, o.port)
	if err != nil {
		return err
	}
	if url := banner(log, name, o.mounts, ln.Addr().(*net.TCPAddr)); o.open {
		openBrowser(url, log)
	}
	if !o.noReload {
		sup, closeSup, err := o.selfSupervisor(ln.(*net.TCPListener), log, now)
		if err != nil && o.mountsPython() {
			log.Notef(" * The Go apps are not rebuilt: %v", err)
			sup, closeSup, err = o.pythonSupervisor(ctx, ln.(*net.TCPListener), "", log, now)
		}
		if err == nil {
			defer closeSup()
			return sup.Run(ctx)
		}
		log.Notef(" * Reload is off: %v", err)
	}
	return o.serveHere(ctx, now, name, ln, log)
}

// serveHere serves the app from this process, with no supervisor.
func (o serveOptions) serveHere(ctx context.Context, now <-chan struct{}, name string, ln net.Listener, log *devserver.Logger) error {
	s, err := o.app(ctx, name, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer s.close()
	gw := devserver.NewGateway(s.app, s.name, log)
	gw.ErrorPage = o.pages.ErrorPage
	return o.instance(devserver.LogRequests(gw, log), log).run(ctx, now, ln, nil)
}

// app looks up the app to serve and what is mounted beside it (starting
// the workers of those in Python), and wraps them in the validator unless
// told not to. Close the result when done.
func (o serveOptions) app(ctx context.Context, name string, log *devserver.Logger) (served, error) {
	var s served
	entry, err := o.resolve(ctx, name, &s, log)
	if err != nil {
		return s, err
	}
	s.name = entry.Name
	specs, err := o.parseMounts(ctx, &s, log)
	if err == nil {
		s.app, err = mountApps(entry, specs)
	}
	if err != nil {
		s.close()
		return s, err
	}
	if !o.noCheck {
		s.app = validate.Wrap(entry.Name, s.app)
	}
	return s, nil
}

// checkReloadFlags rejects durations and paths that cannot be meant.
func (o serveOptions) checkReloadFlags() error {
	if o.grace <= 0 {
		return usageErrorf("invalid --grace %s: want a positive duration, such as 5s", o.grace)
	}
	if o.readyTimeout <= 0 {
		return usageErrorf("invalid --ready-timeout %s: want a positive duration, such as 1m", o.readyTimeout)
	}
	if o.delay < 0 {
		return usageErrorf("invalid --delay %s: want a duration of 0 or more, such as 50ms", o.delay)
	}
	for _, w := range o.watch {
		if _, err := os.Stat(w); err != nil {
			return usageErrorf("invalid --watch %s: %v", w, errors.Unwrap(err))
		}
	}
	return nil
}

// selfSupervisor prepares reload for this very program, rebuilt from its
// own module (wsgo's, or a module whose main runs wsgo's command line), or
// says why it cannot. The returned func stops the watcher and removes the
// build directory.
func (o serveOptions) selfSupervisor(ln *net.TCPListener, log *devserver.Logger, now <-chan struct{}) (*reload.Supervisor, func(), error) {
	if !reload.Supported {
		return nil, nil, fmt.Errorf("not supported on %s (Linux and macOS have it)", runtime.GOOS)
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, nil, err
	}
	src, err := gobuild.FindSource(wd)
	if err != nil && ownModule() == gobuild.Wsgo {
		// The installed wsgo, outside a module of the user's: nothing of
		// the user's to rebuild, and wsgo's own source is not theirs.
		add, _ := gobuild.HowToAdd(wd)
		return nil, nil, fmt.Errorf("these are wsgo's built-in apps; in a module of your own that requires wsgo (%s), wsgo serve rebuilds your apps on every save", add)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w (--no-reload silences this)", err)
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	w, err := o.watcher(src, log)
	if err != nil {
		return nil, nil, err
	}
	b, err := gobuild.NewBuilder(src)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	b.Watcher = w
	b.FindEmbeds() // beside the first server's start, stopped by b.Close
	b.Flags = buildFlags(o.debugInfo)
	first := &reload.Program{Argv: asAppServer.argv(self), ID: gobuild.ProgramID(self)}
	b.Args = first.Argv[1:]
	sup, err := o.supervisor(ln, o.withMounted(b, src.Root, first), first, w, log, now)
	if err != nil {
		w.Close()
		b.Close()
		return nil, nil, err
	}
	return sup, func() { w.Close(); b.Close() }, nil
}

// watcher watches src's module and the other modules its build reads from
// disk, and says so.
func (o serveOptions) watcher(src gobuild.Source, log *devserver.Logger) (*watch.Watcher, error) {
	mods, err := src.LocalModules()
	if err != nil {
		log.Notef(" * %v; only the module itself is watched", err)
	}
	rules := gobuild.Rules
	if o.mountsPython() {
		rules = goAndPythonRules
	}
	w, err := watch.New(src.Root, watch.Options{Rules: rules, Delay: o.delay, Watch: o.watch, Exclude: o.exclude, Assets: o.assets, Modules: mods, Poll: o.poll})
	if err != nil {
		return nil, err
	}
	describeWatch(log, src, w)
	if every, why := w.Polling(); every > 0 {
		log.Printf(" * Watching by polling every %v (%s)", every, cmp.Or(why, o.pollBy))
	}
	return w, nil
}

func describeWatch(log *devserver.Logger, src gobuild.Source, w *watch.Watcher) {
	dirs, files := w.Stats()
	how := ".gitignore applied through git"
	if !w.GitIgnore() {
		how = "not a git work tree: .gitignore not applied"
	}
	trees := w.Trees()
	also := ""
	if len(trees) > 1 {
		also = " and " + strings.Join(relativeTo(src.Root, trees[1:]), ", ")
	}
	log.Printf(" * Watching %s%s: %s, %s the build reads (%s)", src.Root, also,
		plural(dirs, "directory", "directories"), plural(files, "file", "files"), how)
	what := path.Join(src.Module, src.Package)
	if strings.HasPrefix(src.Package, "./.wsgo/") { // a program wsgo writes
		what = "the apps of " + src.Module
	}
	log.Printf(" * Reload is on: a save rebuilds %s; press Enter to rebuild now", what)
}

// relativeTo names each dir from root when that is shorter, as ../lib.
func relativeTo(root string, dirs []string) []string {
	out := make([]string, len(dirs))
	for i, d := range dirs {
		out[i] = d
		if rel, err := filepath.Rel(root, d); err == nil && len(rel) < len(d) {
			out[i] = rel
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// colorOn decides whether to colour: never with --no-color or NO_COLOR,
// else only on a terminal.
func (o serveOptions) colorOn() bool {
	return !o.noColor && devserver.ColorFor(os.Stderr)
}

// banner says what is served where; mounts are --mount's PREFIX=APP. It
// returns the URL to open.
func banner(log *devserver.Logger, name string, mounts []string, addr *net.TCPAddr) string {
	log.Printf(" * Serving %s %q", appKind(name), name)
	for _, m := range mounts {
		prefix, app, _ := strings.Cut(m, "=")
		log.Printf(" * Serving %s %q below %s", appKind(app), app, prefix)
	}
	if !addr.IP.IsLoopback() {
		log.Errorf(" * WARNING: this development server is reachable from the network at %s.\n   Do not use it in production; --host 127.0.0.1 keeps it on this machine.", addr)
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
	log.Highlightf(" * Running on %s", url)
	log.Printf("Press CTRL+C to quit")
	return url
}

// openBrowser opens url in the user's browser, once: $BROWSER if set, else
// the system's opener. The socket is bound already, so the browser's request
// waits for the first server rather than failing.
func openBrowser(url string, log *devserver.Logger) {
	var errs []string
	for _, args := range browserCommands(os.Getenv("BROWSER"), url) {
		c := exec.Command(args[0], args[1:]...)
		if err := c.Start(); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", args[0], err))
			continue
		}
		go c.Wait()
		return
	}
	log.Notef(" * --open: could not start a browser (%s); open %s yourself", strings.Join(errs, "; "), url)
}

// browserCommands reads $BROWSER as Python's webbrowser module and
// xdg-utils do: commands to try in turn, separated by colons, each with %s
// where the URL goes, or the URL last. Without it, the system's opener.
func browserCommands(env, url string) [][]string {
	if env == "" {
		if runtime.GOOS == "darwin" {
			return [][]string{{"open", url}}
		}
		return [][]string{{"xdg-open", url}}
	}
	var cmds [][]string
	for _, entry := range strings.Split(env, string(os.PathListSeparator)) {
		args := strings.Fields(entry)
		if len(args) == 0 {
			continue
		}
		placed := false
		for i, a := range args {
			if strings.Contains(a, "%s") {
				args[i], placed = strings.ReplaceAll(a, "%s", url), true
			}
		}
		if !placed {
			args = append(args, url)
		}
		cmds = append(cmds, args)
	}
	return cmds
}

// flagsFromEnv sets each flag not given on the command line from its
// environment variable, if set and not empty: flags win over the
// environment. The flag remembers the variable, for messages about its value.
func flagsFromEnv(c *cobra.Command, vars map[string]string) error {
	for flag, env := range vars {
		v := os.Getenv(env)
		if v == "" || c.Flags().Changed(flag) {
			continue
		}
		if err := c.Flags().Set(flag, v); err != nil {
			var why *flagWhy
			if errors.As(err, &why) {
				return usageErrorf("invalid %s=%s: %v", env, why.shown, why.err)
			}
			return usageErrorf("invalid %s=%q: want a %s", env, v, typeWord(c.Flags().Lookup(flag).Value.Type()))
		}
		c.Flags().SetAnnotation(flag, envAnnotation, []string{env})
	}
	return nil
}

// minPoll is the shortest --poll interval taken: a look costs milliseconds
// on a large tree, so looking more often keeps a core busy for nothing an
// editor's save needs.
const minPoll = 100 * time.Millisecond

// pollFlag refuses a --poll (or WSGO_POLL) interval that is not positive or
// shorter than minPoll, and remembers which of the two asked for polling,
// for the banner.
func (o *serveOptions) pollFlag(f *pflag.Flag) error {
	if !f.Changed {
		return nil
	}
	if o.poll <= 0 {
		return invalidValue(f.Name, o.poll.String(), "want a positive interval, such as 1s")
	}
	if o.poll < minPoll {
		return invalidValue(f.Name, o.poll.String(), "want at least "+minPoll.String()+"; polling more often costs a core on a large tree")
	}
	o.pollBy = cmp.Or(strings.Join(f.Annotations[envAnnotation], ""), "--poll")
	if o.noReload && o.pollBy == "--poll" {
		return usageErrorf("--poll and --no-reload: with reload off nothing is watched; leave one out")
	}
	return nil
}

// pollValue is --poll's interval: a duration flag that may stand alone.
// Unset, it reads as "", which the help leaves out, as it does a zero.
type pollValue time.Duration

func (p *pollValue) String() string {
	if *p == 0 {
		return ""
	}
	return time.Duration(*p).String()
}

func (p *pollValue) Type() string { return "duration" }

func (p *pollValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	*p = pollValue(d)
	return err
}
