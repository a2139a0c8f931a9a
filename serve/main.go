package serve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/wsgo/wsgo/internal/gcpace"
	"github.com/wsgo/wsgo/reload/control"
	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/proxy"
)

// Exit codes, by convention, of the production program and of wsgo's
// command line alike.
const (
	ExitOK      = 0
	ExitFailure = 1 // something went wrong at run time
	ExitUsage   = 2 // the command line was wrong
)

// Main is the main function of a program built by wsgo build: it serves the
// apps registered in the program, in production. It exits when the server
// has stopped.
//
//	./app [flags] [APP]
//
// APP may be left out when the program has one app. Flags: -host and
// -port (or WSGO_HOST and WSGO_PORT; default 127.0.0.1:8000), -mount
// PREFIX=APP (repeatable), -grace (how long requests in flight may take
// when stopping), -read-timeout (how long to wait for the next bytes of a
// request body before dropping the connection; default 5s, or half of
// -grace if that is shorter), -proxy ADDR|CIDR[,…] (the reverse proxies whose
// X-Forwarded-* headers to believe, see package proxy), -log-format text
// or json (one JSON object a line), -upgrade-on-hup (SIGHUP starts the
// program now on disk on the same socket, and a server that stops by itself
// is restarted), -max-restarts (how many restarts in a row may fail before
// the program exits 1; default 10). Every request gets an id, its
// X-Request-Id if it came with one, in the environ under [RequestIDKey], in
// the response's X-Request-Id and in its access log line. A socket passed
// under the LISTEN_FDS convention (systemd socket activation) is served
// instead of binding one. SIGTERM or SIGINT drains the server; a second one
// stops it at once. Unless GOGC or GOMEMLIMIT is set, the garbage collector
// runs less often while the heap is small (GOGC 400 under 16 MiB, back to
// Go's 100 at 64 MiB; see docs/production.md).
func Main() {
	os.Exit(run(os.Args[0], os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line of a built program.
type options struct {
	list         bool
	upgradeOnHUP bool
	maxRestarts  int
	host         string
	port         int
	grace        time.Duration
	readTimeout  time.Duration
	writeTimeout time.Duration
	mounts       []string
	app          string
	proxy        []netip.Prefix // trusted proxies; none by default
	forwarded    bool           // read Forwarded, not X-Forwarded-*
	logFormat    string
}

func run(prog string, args []string, stdout, stderr io.Writer) int {
	// Before anything else, so that a signal is never lost.
	ctx, now, release := Interrupts(context.Background())
	defer release()

	o, err := parse(prog, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return usageError(stderr, prog, err, nil)
	}
	if o.list {
		fmt.Fprintln(stdout, strings.Join(wsgi.Names(), "\n"))
		return 0
	}
	app, err := o.handler()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return ExitUsage
	}
	gcpace.Tune()
	registered := func(context.Context, string, Logs) (wsgi.App, func(), error) { return app, func() {}, nil }
	return o.serve(ctx, now, prog, args, stderr, registered)
}

// A starter makes the app a server serves, and returns what stops it once
// the server has drained.
type starter func(ctx context.Context, name string, logs Logs) (app wsgi.App, stop func(), err error)

// serve runs the server the options say, under -upgrade-on-hup's
// supervisor, as it, or alone. start is called only in a process that is
// to serve requests, before it says it is ready; prog and args run this
// program again.
func (o options) serve(ctx context.Context, now <-chan struct{}, prog string, args []string, stderr io.Writer, start starter) int {
	logs := newLogs(o.logFormat, stderr)
	logs.batch(logBatch)
	defer logs.flush()
	logger := logs.std
	child, err := control.Attach()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", prog, err)
		return ExitFailure
	}
	if child != nil { // a new program taking over from an old one
		return o.asChild(ctx, now, child, logs, start)
	}
	ln, err := o.listener()
	if err != nil {
		logs.error.Print(err) // in the log's format: a JSON pipeline reads it too
		return ExitFailure
	}
	if o.upgradeOnHUP {
		return supervise(ctx, now, prog, args, ln, o, logs)
	}
	defer ignoreHangups(logs)()
	app, stop, err := start(ctx, o.app, logs.forApp())
	if err != nil {
		ln.Close()
		logs.error.Print(err)
		return ExitFailure
	}
	defer stop()
	r := o.newRun(o.gateway(app, logs), logs)
	logger.Printf("serving %s on http://%s", describe(o), ln.Addr())
	r.Stopping = func() { logger.Printf("stopping: letting requests in flight finish (up to -grace %s)", o.grace) }
	cut, err := r.Serve(ctx, now, ln, nil)
	if err != nil {
		logger.Print(err)
		return ExitFailure
	}
	if err := Error(cut, o.grace, now); err != nil {
		logger.Print(err)
		return ExitFailure
	}
	logger.Printf("stopped")
	return 0
}

// ignoreHangups keeps SIGHUP, which would end the program, from stopping
// a program that was not started with -upgrade-on-hup: gunicorn's users,
// and service managers' reload commands, send it to reload. Each one is
// a warning that says what to do instead.
func ignoreHangups(logs logs) (stop func()) {
	hups := make(chan os.Signal, 1)
	signal.Notify(hups, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hups:
				logs.warn.Print("SIGHUP ignored: this program upgrades on SIGHUP only when started with -upgrade-on-hup; restart it to run new code")
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hups)
		close(done)
	}
}

func (o options) newRun(h http.Handler, logs logs) *Run {
	return &Run{Handler: h, Grace: o.grace, ReadTimeout: o.readTimeout, WriteTimeout: o.writeTimeout, ErrorLog: logs.errors}
}

// asChild serves under the -upgrade-on-hup supervisor that started it: it
// starts the app, and says it is ready only once the app has started.
func (o options) asChild(ctx context.Context, now <-chan struct{}, child *control.Child, logs logs, start starter) int {
	defer child.Close()
	signal.Ignore(syscall.SIGHUP) // the supervisor's, should it reach us too
	var h http.Handler
	stopApp := func() {}
	if child.Problem != "" {
		// The first program did not start: say so, and nothing more.
		logs.std.Printf("no server could start:\n%s", child.Problem)
		h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
		})
	} else {
		app, stop, err := start(ctx, o.app, logs.forApp())
		if err != nil {
			logs.error.Print(err)
			return ExitFailure
		}
		stopApp = sync.OnceFunc(stop)
		defer stopApp() // on every path
		h = o.gateway(app, logs)
	}
	r := o.newRun(h, logs)
	r.Ready = child.Ready
	cut, err := r.Serve(ctx, now, child.Listener, child.Messages)
	stopApp() // the app's own processes end before this one says it has
	if err != nil {
		logs.std.Print(err)
		return ExitFailure
	}
	child.Stopped(cut)
	return 0
}

func parse(prog string, args []string, stderr io.Writer) (options, error) {
	fs, printUsage := newFlagSet(prog, stderr, fmt.Sprintf("[flags] [APP]\n\nServes APP, one of: %s", strings.Join(wsgi.Names(), ", ")))
	o, err := serverFlags(fs)
	if err != nil {
		return *o, err
	}
	fs.BoolVar(&o.list, "list", false, "print the names of the apps this program serves, one a line, and exit")
	fs.Func("mount", "also serve app APP below PREFIX, as PREFIX=APP (repeatable)", func(v string) error {
		if _, _, err := ParseMount(v); err != nil {
			return err
		}
		o.mounts = append(o.mounts, v)
		return nil
	})
	named, err := parseAround(fs, args, &o.list, printUsage)
	if err != nil || o.list {
		return *o, err
	}
	switch names := wsgi.Names(); {
	case len(named) > 1:
		return *o, fmt.Errorf("one app at a time, got %d: %s", len(named), strings.Join(named, " "))
	case len(named) == 1:
		o.app = named[0]
	case len(names) == 1:
		o.app = names[0]
	default:
		return *o, fmt.Errorf("which app? name one of: %s", strings.Join(names, ", "))
	}
	return *o, o.check(fs)
}

// serverFlags defines on fs the flags of every production program, with
// their defaults from WSGO_HOST and WSGO_PORT.
func serverFlags(fs *flag.FlagSet) (*options, error) {
	o := &options{host: "127.0.0.1", port: 8000}
	if v := os.Getenv("WSGO_HOST"); v != "" {
		o.host = v
	}
	if v := os.Getenv("WSGO_PORT"); v != "" {
		p, err := ParsePort(v)
		if err != nil {
			return o, fmt.Errorf("invalid WSGO_PORT=%q: %v", v, err)
		}
		o.port = p
	}
	fs.BoolVar(&o.upgradeOnHUP, "upgrade-on-hup", false, "on SIGHUP, start the program now on disk on the same socket and drain this one once it is ready")
	fs.IntVar(&o.maxRestarts, "max-restarts", 10, "with -upgrade-on-hup: how many restarts in a row of a server that stopped by itself may fail before the program exits 1, for the service manager to act; 0 for no limit")
	fs.StringVar(&o.host, "host", o.host, "address to listen on (or WSGO_HOST)")
	fs.Func("port", "port to listen on, 0 for any free one (or WSGO_PORT; default 8000)", func(v string) (err error) {
		o.port, err = ParsePort(v)
		return err
	})
	fs.DurationVar(&o.grace, "grace", 10*time.Second, "how long requests in flight may take to finish when stopping")
	fs.DurationVar(&o.readTimeout, "read-timeout", DefaultReadTimeout, "how long to wait for the next bytes of a request body (and its first, from the request's start) before dropping the connection; less than -grace, and at most half of it unless given")
	fs.DurationVar(&o.writeTimeout, "write-timeout", DefaultWriteTimeout, "how long a write of a response may wait for the client to take bytes before dropping the connection (and ending the request)")
	fs.Func("proxy", "trust the X-Forwarded-* headers of requests from these proxies, as ADDR or CIDR[,…] (such as 127.0.0.1 or 10.0.0.0/8); off by default", func(v string) error {
		p, err := proxy.ParsePrefixes(v)
		o.proxy = append(o.proxy, p...)
		return err
	})
	fs.Func("proxy-header", "the headers the -proxy set: x-forwarded (X-Forwarded-For, -Proto, -Host, -Prefix) or forwarded (RFC 7239)", func(v string) error {
		switch v {
		case "x-forwarded", "forwarded":
			o.forwarded = v == "forwarded"
			return nil
		}
		return fmt.Errorf("want x-forwarded or forwarded")
	})
	fs.StringVar(&o.logFormat, "log-format", "text", "the log's format: text, for a person, or json, one object a line")
	return o, nil
}

// newFlagSet returns a flag set for prog, and what prints its usage,
// "Usage: prog " then usage, and the flags, to stderr. A mistake prints
// nothing: the program says it in one line (see usageError), rather than
// bury it above the whole usage, as the flag package does.
func newFlagSet(prog string, stderr io.Writer, usage string) (fs *flag.FlagSet, printUsage func()) {
	fs = flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // the flag package calls it on every mistake
	return fs, func() {
		fmt.Fprintf(stderr, "Usage: %s %s\n\nFlags:\n", prog, usage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// parseAround parses args with fs, flags before and after the positional
// arguments (./site hello -port 80), and returns those; it stops early
// when stop is set. A flag the flag package refused comes back as a
// flagError; -help calls printUsage and returns flag.ErrHelp.
func parseAround(fs *flag.FlagSet, args []string, stop *bool, printUsage func()) ([]string, error) {
	var named []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			printUsage()
			return named, err
		}
		if err != nil {
			return named, flagError{err}
		}
		if *stop || fs.NArg() == 0 {
			return named, nil
		}
		named = append(named, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// A flagError is a flag the flag package refused: unknown, or with a value
// it could not take.
type flagError struct{ error }

func (e flagError) Unwrap() error { return e.error }

// usageError says err in one line, and for a refused flag what to run to
// see the flags, and hint's word on it if it has one; it returns the usage
// exit code.
func usageError(stderr io.Writer, prog string, err error, hint func(flag string) string) int {
	fmt.Fprintf(stderr, "%s: %v\n", prog, err)
	if !errors.As(err, new(flagError)) {
		return ExitUsage
	}
	if name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok && hint != nil {
		if h := hint(name); h != "" {
			fmt.Fprintf(stderr, "%s\n", h)
		}
	}
	fmt.Fprintf(stderr, "Run '%s -help' to see the flags.\n", prog)
	return ExitUsage
}

// check checks the values of the flags serverFlags defined.
func (o *options) check(fs *flag.FlagSet) error {
	if err := CheckHost(o.host); err != nil {
		return fmt.Errorf("invalid -host %q: %v", o.host, err)
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return fmt.Errorf("invalid -log-format %q: want text or json", o.logFormat)
	}
	if o.grace <= 0 {
		return fmt.Errorf("invalid -grace %s: want a positive duration, such as 10s", o.grace)
	}
	if o.writeTimeout <= 0 {
		return fmt.Errorf("invalid -write-timeout %s: want a positive duration, such as 30s", o.writeTimeout)
	}
	if o.maxRestarts < 0 {
		return fmt.Errorf("invalid -max-restarts %d: want 0 (no limit) or more", o.maxRestarts)
	}
	return o.checkReadTimeout(fs)
}

// checkReadTimeout checks a -read-timeout given, and leaves one not given
// to the Run: DefaultReadTimeout, or half the grace if that is shorter.
func (o *options) checkReadTimeout(fs *flag.FlagSet) error {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "read-timeout" })
	switch {
	case !given:
		o.readTimeout = 0
	case o.readTimeout <= 0:
		return fmt.Errorf("invalid -read-timeout %s: want a positive duration, such as 5s", o.readTimeout)
	case o.readTimeout >= o.grace:
		return fmt.Errorf("invalid -read-timeout %s: want less than -grace %s, or a client that sends nothing holds a drain for the whole grace", o.readTimeout, o.grace)
	}
	return nil
}

// handler returns the app to serve, with the mounted ones below their
// prefixes.
func (o options) handler() (wsgi.App, error) {
	root, err := lookup(o.app)
	if err != nil {
		return nil, err
	}
	if len(o.mounts) == 0 {
		return root, nil
	}
	d := wsgi.NewDispatcher(root)
	for _, m := range o.mounts {
		prefix, name, _ := ParseMount(m) // checked by parse
		app, err := lookup(name)
		if err != nil {
			return nil, err
		}
		if err := d.Mount(prefix, name, app); err != nil {
			return nil, fmt.Errorf("invalid -mount %q: %w", m, err)
		}
	}
	return d, nil
}

func lookup(name string) (wsgi.App, error) {
	e, err := Lookup(name)
	return e.App, err
}

// gateway serves app with a request id and a line in the access log for
// every request, behind the trusted proxies if there are any.
func (o options) gateway(app wsgi.App, l logs) http.Handler {
	app = noted(app)
	trust := len(o.proxy) > 0
	if trust {
		app = proxy.Config{Trusted: o.proxy, Forwarded: o.forwarded}.Wrap(seen(app))
	}
	return logRequests(&wsgi.Gateway{App: app, Name: o.app, Log: l.app}, l.access, trust)
}

// listener is the socket passed in (LISTEN_FDS), or a new one.
func (o options) listener() (net.Listener, error) {
	ln, err := control.Listener()
	if ln != nil || err != nil {
		return ln, err
	}
	return Listen(o.host, o.port, "-port", "-host")
}

func describe(o options) string {
	s := strconv.Quote(o.app)
	for _, m := range o.mounts {
		prefix, name, _ := strings.Cut(m, "=")
		s += fmt.Sprintf(", %q below %s", name, prefix)
	}
	return s
}
