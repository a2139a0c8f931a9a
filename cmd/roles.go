package cmd

import (
	"context"
	"fmt"
	"net"
	"os"
	"slices"

	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/reload"
	"github.com/wsgo/wsgo/reload/control"
	"github.com/wsgo/wsgo/reload/gobuild"
	"github.com/wsgo/wsgo/reload/watch"
)

// A role is the part a wsgo serve process plays. The user starts the
// supervisor; the supervisor starts each app server and error page with
// the same command line and the hidden flag --as naming the role, so that
// a reader of this package sees which code runs where.
type role string

const (
	asSupervisor role = ""           // the process the user started
	asAppServer  role = "app"        // serves the app on the supervisor's socket
	asErrorPage  role = "error-page" // shows a failure on the supervisor's socket
)

// roleFlag is the flag that names a server process's role.
const roleFlag = "as"

func (r *role) String() string { return string(*r) }
func (r *role) Type() string   { return `role: "app" or "error-page"` }
func (r *role) Set(s string) error {
	switch role(s) {
	case asSupervisor, asAppServer, asErrorPage:
		*r = role(s)
		return nil
	}
	return fmt.Errorf("want %q or %q", asAppServer, asErrorPage)
}

// argv is the command line of a server process in role r: this command's,
// with the role added.
func (r role) argv(exe string) []string {
	args := slices.DeleteFunc(slices.Clone(os.Args[1:]), isRoleFlag)
	return append(append([]string{exe}, args...), "--"+roleFlag+"="+string(r))
}

func isRoleFlag(a string) bool {
	return a == "--"+roleFlag || len(a) > len(roleFlag)+3 && a[:len(roleFlag)+3] == "--"+roleFlag+"="
}

// asServer runs serve as a server process in role r: attached to the
// supervisor that started it, with a request log coloured as the
// supervisor's terminal is.
func (o serveOptions) asServer(r role, serve func(*control.Child, *devserver.Logger) error) error {
	child, err := control.Attach()
	if err == nil && child == nil {
		err = fmt.Errorf("--%s=%s is for the processes wsgo serve starts itself; run wsgo serve without it", roleFlag, r)
	}
	if err != nil {
		return err
	}
	defer child.Close()
	log := devserver.NewLogger(os.Stderr, child.Color && !o.noColor)
	log.Batch(logBatch)
	defer log.Flush()
	return serve(child, log)
}

// serveAppServer is an app server under a supervisor.
func serveAppServer(ctx context.Context, name string, o serveOptions) error {
	return o.asServer(asAppServer, func(child *control.Child, log *devserver.Logger) error {
		s, err := o.app(ctx, name, log)
		if pythonLoadFailed(err) {
			child.Refuse(err.Error()) // a save may fix it; the supervisor tells it
			return &exitError{code: exitFailure}
		}
		if err != nil {
			child.Refuse(err.Error() + "; a rebuild does not change that: restart wsgo serve with the command fixed")
			return err
		}
		defer s.close()
		gw := devserver.NewGateway(s.app, s.name, log)
		gw.ErrorPage = o.pages.ErrorPage
		return serveUnder(ctx, child, o.instance(devserver.LogRequests(gw, log), log), !o.noReload)
	})
}

// serveErrorPage shows the problem the supervisor tells it on every request.
func serveErrorPage(ctx context.Context, o serveOptions) error {
	return o.asServer(asErrorPage, func(child *control.Child, log *devserver.Logger) error {
		if wd, err := os.Getwd(); err == nil {
			// A build ran at the module's root: its output's paths are from there.
			o.pages.Dir, _ = gobuild.ModuleRoot(wd)
		}
		h := o.pages.Problem(child.Problem)
		return serveUnder(ctx, child, o.instance(devserver.LogRequests(h, log), log), true)
	})
}

// serveUnder serves in on the supervisor's socket until it is told to stop.
func serveUnder(ctx context.Context, child *control.Child, in *instance, liveReload bool) error {
	if liveReload {
		// The reserved live-reload paths are answered before the request
		// log, so that a page's event stream does not log a line at every
		// reload. Without reload, pages are served as they are.
		lr := devserver.NewLiveReload(in.Handler, child.BuildID)
		in.Handler, in.OnDrain, in.Reload, in.Restyle = lr, lr.Close, lr.Reload, lr.ReloadStyles
	}
	in.Ready = child.Ready
	in.quiet = true // the supervisor tells the story of a stop
	cut, err := in.serve(ctx, nil, child.Listener, child.Messages)
	if err != nil {
		return err
	}
	return child.Stopped(cut)
}

// supervisor assembles the dev supervisor, for wsgo's own module and for a
// user's alike: it runs first (if not nil) at once, asks b for each next
// program, shows failures with this binary's error page, and rebuilds on
// w's changes and the Enter key, when w is not nil.
func (o serveOptions) supervisor(ln *net.TCPListener, b reload.Builder, first *reload.Program, w *watch.Watcher, log *devserver.Logger, now <-chan struct{}) (*reload.Supervisor, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	sup := &reload.Supervisor{
		Listener:     ln,
		Builder:      b,
		First:        first,
		Fallback:     &reload.Program{Argv: asErrorPage.argv(self)},
		Color:        o.colorOn(),
		Grace:        o.grace,
		ReadyTimeout: o.readyTimeout,
		Log:          log,
		Abort:        now,
	}
	if w != nil {
		sup.Changes, sup.Errors, sup.Keys = w.Changes, w.Errors, os.Stdin
	}
	return sup, nil
}
