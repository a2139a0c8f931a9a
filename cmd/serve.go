package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsgo/wsgo/apps"
	"github.com/wsgo/wsgo/apps/validate"
	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/reload"
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
}

// envColor carries the supervisor's colour decision to its servers, whose
// standard error is a pipe rather than the terminal.
const envColor = "WSGO_COLOR"

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
  wsgo serve demo --watch templates --exclude 'generated/*'`,
		Args:              appArg,
		ValidArgsFunction: completeApps,
		RunE: func(c *cobra.Command, args []string) error {
			o.noColor, _ = c.Flags().GetBool("no-color")
			if err := flagsFromEnv(c, map[string]string{"host": "WSGO_HOST", "port": "WSGO_PORT"}); err != nil {
				return err
			}
			return serve(c.Context(), args[0], o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.host, "host", "127.0.0.1", "address to listen on (or WSGO_HOST)")
	f.IntVar(&o.port, "port", 8000, "port to listen on, 0 for any free one (or WSGO_PORT)")
	f.DurationVar(&o.grace, "grace", 5*time.Second, "how long in-flight requests may take to finish when stopping or swapping")
	f.BoolVar(&o.noReload, "no-reload", false, "do not rebuild and swap the server when the source changes")
	f.DurationVar(&o.delay, "delay", 50*time.Millisecond, "quiet period after a change before rebuilding")
	f.StringArrayVar(&o.watch, "watch", nil, "also rebuild when files at or below this path change (repeatable)")
	f.BoolVar(&o.noCheck, "no-validate", false, "do not check apps against the contract (wsgiref.validate's rules)")
	f.StringArrayVar(&o.mounts, "mount", nil, "also serve app APP below PREFIX, as PREFIX=APP (repeatable)")
	f.StringArrayVar(&o.exclude, "exclude", nil, "never rebuild for paths matching this pattern, on the base name or the path from the module root (repeatable)")
	return c
}

// appArg checks that exactly one app is named, and that it is registered.
func appArg(c *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return &usageError{err: errors.New("which app? name one to serve"), hint: usageWithApps(c)}
	case len(args) > 1:
		return &usageError{err: fmt.Errorf("serve takes one app, got %d: %s", len(args), strings.Join(args, " ")), hint: usageWithApps(c)}
	}
	_, err := lookupApp(args[0])
	return err
}

func usageWithApps(c *cobra.Command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n\nRegistered apps:\n", c.UseLine())
	for _, name := range apps.Names() {
		e, _ := apps.Lookup(name)
		fmt.Fprintf(&b, "  %-12s %s\n", name, e.Description)
	}
	return strings.TrimRight(b.String(), "\n")
}

// lookupApp finds a registered app, or says what the user may have meant,
// and why a name the source registers may be missing from this binary.
func lookupApp(name string) (apps.Entry, error) {
	if e, ok := apps.Lookup(name); ok {
		return e, nil
	}
	names := apps.Names()
	msg := fmt.Sprintf("unknown app %q", name)
	if s := suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q? The registered apps are %s", s, strings.Join(names, ", "))
	} else if len(names) > 0 {
		msg += "; the registered apps are " + strings.Join(names, ", ")
	}
	err := &usageError{err: errors.New(msg)}
	if file := sourceRegistering(name); file != "" {
		err.hint = fmt.Sprintf("%s registers %q, but this wsgo binary was built without it: rebuild it (go install or go build where its main package is), or run the source with go run . in place of wsgo.", file, name)
	}
	return apps.Entry{}, err
}

func serve(ctx context.Context, name string, o serveOptions) error {
	color := o.colorOn()
	log := devserver.NewLogger(os.Stderr, color)
	if failure, ok := os.LookupEnv(reload.EnvBuildError); ok {
		return serveInherited(ctx, devserver.Failure(failure), o, log)
	}
	entry, err := lookupApp(name)
	if err != nil {
		return err
	}
	specs, err := parseMounts(o.mounts)
	if err != nil {
		return err
	}
	app, err := mountApps(entry, specs)
	if err != nil {
		return err
	}
	if !o.noCheck {
		app = validate.Wrap(entry.Name, app)
	}
	if err := checkAddr(o.host, o.port); err != nil {
		return err
	}
	if err := o.checkReloadFlags(); err != nil {
		return err
	}
	gw := &devserver.Gateway{App: app, Name: entry.Name, Log: log}
	if reload.Supervised() || os.Getenv("LISTEN_FDS") != "" {
		return serveInherited(ctx, gw, o, log)
	}

	ln, err := listen(o.host, o.port)
	if err != nil {
		return err
	}
	banner(log, entry, specs, ln.Addr().(*net.TCPAddr))
	if !o.noReload {
		sup, err := o.supervisor(ln.(*net.TCPListener), log, color)
		if err == nil {
			return sup.Run(ctx)
		}
		log.Notef(" * Reload is off: %v", err)
	}
	srv := devserver.NewServer(devserver.LogRequests(gw, log), log)
	return runServer(ctx, srv, ln, o.grace, log)
}

// checkReloadFlags rejects durations and paths that cannot be meant.
func (o serveOptions) checkReloadFlags() error {
	if o.grace <= 0 {
		return usageErrorf("invalid --grace %s: want a positive duration, such as 5s", o.grace)
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

// serveInherited serves h on a socket passed in by a supervisor or systemd.
func serveInherited(ctx context.Context, h http.Handler, o serveOptions, log *devserver.Logger) error {
	ln, err := reload.Listener()
	if err != nil {
		return err
	}
	if ln == nil {
		return errors.New("no listening socket was passed in (LISTEN_FDS), yet this process was started as a supervised server")
	}
	// The reserved live-reload paths are answered before the request log,
	// so that a page's event stream does not log a line at every reload.
	h = devserver.LogRequests(h, log)
	var lr *devserver.LiveReload
	if id := reload.BuildID(); id != "" { // pages reload when the next build is up
		lr = devserver.NewLiveReload(h, id)
		h = lr
	}
	srv := devserver.NewServer(h, log)
	if lr != nil {
		srv.OnDrain(lr.Close)
	}
	if err := reload.Ready(); err != nil {
		return err
	}
	return runServer(ctx, srv, ln, o.grace, log)
}

// supervisor prepares reload for this program, or says why it cannot.
func (o serveOptions) supervisor(ln *net.TCPListener, log *devserver.Logger, color bool) (*reload.Supervisor, error) {
	if !reload.Supported {
		return nil, fmt.Errorf("not supported on %s (Linux and macOS have it)", runtime.GOOS)
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	src, err := reload.FindSource(wd)
	if err != nil {
		return nil, fmt.Errorf("%w (--no-reload silences this)", err)
	}
	env := []string{envColor + "=0"}
	if color {
		env = []string{envColor + "=1"}
	}
	return &reload.Supervisor{
		Source:   src,
		Listener: ln,
		Args:     os.Args[1:],
		Env:      env,
		Grace:    o.grace,
		Watch:    reload.WatchOptions{Delay: o.delay, Watch: o.watch, Exclude: o.exclude},
		Log:      log,
		Keys:     os.Stdin,
	}, nil
}

// colorOn decides whether to colour: never with --no-color or NO_COLOR, as
// the supervisor decided for a supervised server, else only on a terminal.
func (o serveOptions) colorOn() bool {
	if o.noColor {
		return false
	}
	if v := os.Getenv(envColor); v != "" {
		return v == "1"
	}
	return devserver.ColorFor(os.Stderr)
}

func banner(log *devserver.Logger, e apps.Entry, mounts []mountSpec, addr *net.TCPAddr) {
	log.Printf(" * Serving wsgo app %q", e.Name)
	for _, m := range mounts {
		log.Printf(" * Serving wsgo app %q below %s", m.entry.Name, m.prefix)
	}
	if !addr.IP.IsLoopback() {
		log.Errorf(" * WARNING: this development server is reachable from the network at %s.\n   Do not use it in production; --host 127.0.0.1 keeps it on this machine.", addr)
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	log.Highlightf(" * Running on http://%s", net.JoinHostPort(host, strconv.Itoa(addr.Port)))
	log.Printf("Press CTRL+C to quit")
}

// runServer serves until SIGINT or SIGTERM, then drains: in-flight requests
// get grace to finish. A second signal stops at once. reload.HandoverSignal,
// from a supervisor swapping in a new server, drains by handing clients over.
func runServer(ctx context.Context, srv *devserver.Server, ln net.Listener, grace time.Duration, log *devserver.Logger) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, reload.HandoverSignal)
	defer signal.Stop(sigs)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var sig os.Signal
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	case sig = <-sigs:
	}

	if !reload.Supervised() { // the supervisor tells that story
		log.Printf(" * Stopping: letting requests in flight finish (Ctrl-C again to stop now)")
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-drainCtx.Done():
		}
	}()
	var err error
	if sig == reload.HandoverSignal {
		err = srv.Handover(drainCtx, ln, min(grace, time.Second))
	} else {
		err = srv.Stop(drainCtx, ln)
	}
	if err != nil {
		srv.Close()
		return fmt.Errorf("stopped before requests in flight finished: %w", err)
	}
	return nil
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
			return usageErrorf("invalid %s=%q: want a %s", env, v, typeWord(c.Flags().Lookup(flag).Value.Type()))
		}
		c.Flags().SetAnnotation(flag, envAnnotation, []string{env})
	}
	return nil
}
