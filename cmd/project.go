package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/reload"
	"github.com/wsgo/wsgo/reload/gobuild"
	"github.com/wsgo/wsgo/reload/watch"
	"github.com/wsgo/wsgo/serve"
	"github.com/wsgo/wsgo/wsgi"
)

// locate finds the user's module that wsgo runs in, when its apps are not
// this binary's own: wsgo installed with go install, run in a module that
// requires it. It returns nil and no error when this binary's apps are the
// ones to use: in wsgo's own module, in a module whose own main runs wsgo's
// command line, or outside any module for a built-in app. An app that
// cannot be found anywhere is a usage error that says how to start.
func locate(app string) (*gobuild.Module, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	m, err := gobuild.Find(wd)
	_, builtin := wsgi.Lookup(app)
	var nr *gobuild.NotRequiredError
	outside := errors.Is(err, gobuild.ErrNoModule) || errors.Is(err, gobuild.ErrNoGo) || errors.As(err, &nr)
	switch {
	case err == nil && (m.Path == gobuild.Wsgo || m.Path == ownModule()):
		return nil, nil
	case err == nil:
		return m, nil
	case outside && (builtin || app == ""):
		return nil, nil
	}
	switch {
	case errors.Is(err, gobuild.ErrNoModule):
		add, _ := gobuild.HowToAdd(wd)
		return nil, &usageError{
			err: fmt.Errorf("unknown app %q: there is no Go module here, and this wsgo has only its built-in apps (%s)", app, strings.Join(wsgi.Names(), ", ")),
			hint: fmt.Sprintf("To serve apps of your own, start a module:\n"+
				"  go mod init example.com/site && %s && wsgo new %s && wsgo serve %s\n"+
				"or run wsgo in the module that has them. To try wsgo first: wsgo serve demo", add, app, app),
		}
	case errors.As(err, &nr):
		return nil, &usageError{err: fmt.Errorf("unknown app %q: %v", app, err),
			hint: fmt.Sprintf("Then write an app: wsgo new %s", app)}
	case errors.Is(err, gobuild.ErrNoGo):
		return nil, &usageError{err: fmt.Errorf("unknown app %q; this wsgo has only its built-in apps (%s), and %v", app, strings.Join(wsgi.Names(), ", "), err)}
	}
	return nil, err
}

// ownModule is the module this binary was built from: wsgo's, when it was
// installed, or the user's, when their own main runs wsgo's command line.
func ownModule() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		return info.Main.Path
	}
	return ""
}

// projectBuilder returns the builder of the module's program of kind: wsgo's
// command line (Dev) or its production server, with the module's app
// packages, from the module's own copy of wsgo. Close removes what it built.
func projectBuilder(m *gobuild.Module, kind gobuild.Kind, flags []string) (*gobuild.Builder, error) {
	b, err := m.Builder(kind, flags)
	var none *gobuild.NoAppsError
	if errors.As(err, &none) {
		return nil, &usageError{err: err, hint: "Write an app with: wsgo new NAME"}
	}
	return b, err
}

// buildFlags link a server as go run does, unless debug information is asked
// for: a rebuilt server is a temporary binary that no debugger opens and no
// one asks its version, and skipping DWARF and the git calls makes the link
// shorter.
func buildFlags(debugInfo bool) []string {
	if debugInfo {
		return nil
	}
	return []string{"-ldflags=-w", "-buildvcs=false"}
}

// appsOf lists the apps a built program serves, asking the program itself.
func appsOf(exe string) ([]string, error) {
	out, err := exec.Command(exe, "routes", "--json").Output()
	if err != nil {
		return nil, fmt.Errorf("the built program failed when asked for its apps: %w", withStderr(err))
	}
	var rows []struct{ App string }
	if err := json.Unmarshal(out, &rows); err != nil {
		return nil, fmt.Errorf("listing the apps of the built program: %w", err)
	}
	var names []string
	for _, r := range rows {
		if !slices.Contains(names, r.App) {
			names = append(names, r.App)
		}
	}
	return names, nil
}

// unknownProjectApp says which apps the module has, and where they are.
func unknownProjectApp(m *gobuild.Module, name string, names []string) error {
	where := make([]string, len(m.Apps))
	for i, p := range m.Apps {
		where[i] = m.Rel(p)
	}
	return &usageError{err: &serve.UnknownAppError{Name: name, Known: names},
		hint: fmt.Sprintf("The apps of %s are registered by the packages %s.", m.Path, strings.Join(where, ", "))}
}

// serveProject serves an app of the user's module: it builds the module's
// program, checks that it has the app, and supervises it, rebuilding on
// every save unless --no-reload.
func serveProject(ctx context.Context, now <-chan struct{}, m *gobuild.Module, name string, o serveOptions, log *devserver.Logger) error {
	if err := checkAddr(o.host, o.port); err != nil {
		return err
	}
	if err := o.checkReloadFlags(); err != nil {
		return err
	}
	b, err := projectBuilder(m, gobuild.Dev, buildFlags(o.debugInfo))
	if err != nil {
		return err
	}
	defer b.Close()
	b.Args = asAppServer.argv("")[1:]
	where := make([]string, len(m.Apps))
	for i, p := range m.Apps {
		where[i] = m.Rel(p)
	}
	log.Printf(" * Building %s (apps in %s)", m.Path, strings.Join(where, ", "))
	fp, _ := fingerprint(m.Dir) // of what this build reads, for completion
	first, err := b.Build(ctx)
	var be *reload.BuildError
	switch {
	case ctx.Err() != nil:
		return nil // stopped while building, as asked
	case errors.As(err, &be):
		first = nil // the supervisor builds again, and shows the error page
	case err != nil:
		return err
	default:
		if err := checkProjectApps(m, first, fp, append([]string{name}, mountedApps(o.mounts)...)); err != nil {
			return err
		}
	}
	ln, err := listen(o.host, o.port)
	if err != nil {
		return err
	}
	if url := banner(log, name, o.mounts, ln.Addr().(*net.TCPAddr)); o.open {
		openBrowser(url, log)
	}
	var w *watch.Watcher
	if o.noReload {
		log.Notef(" * Reload is off (--no-reload)")
	} else {
		w, err = o.watcher(gobuild.Source{Root: m.Dir, Module: m.Path, Package: b.Source.Package}, log)
		if err != nil {
			return err
		}
		defer w.Close()
		b.Watcher = w
		b.FindEmbeds()
	}
	sup, err := o.supervisor(ln.(*net.TCPListener), o.withMounted(b, m.Dir, first), first, w, log, now)
	if err != nil {
		return err
	}
	return sup.Run(ctx)
}

// checkProjectApps checks that the module's program serves the apps wanted,
// and removes it when it does not. What it serves is kept for completion,
// under fp, the fingerprint of the module taken before the build.
func checkProjectApps(m *gobuild.Module, prog *reload.Program, fp string, want []string) error {
	names, err := appsOf(prog.Argv[0])
	if err != nil {
		return err
	}
	rememberApps(m.Dir, fp, names)
	for _, name := range want {
		if !slices.Contains(names, name) {
			os.Remove(prog.Argv[0])
			return unknownProjectApp(m, name, names)
		}
	}
	return nil
}

// mountedApps names the apps of --mount PREFIX=APP flags.
func mountedApps(mounts []string) []string {
	var names []string
	for _, m := range mounts {
		if _, app, ok := strings.Cut(m, "="); ok {
			names = append(names, app)
		}
	}
	return names
}

// buildProgram builds the module's program of kind into a temporary
// directory, and returns it with the function that removes it. A failed
// build is an error carrying the compiler's output.
func buildProgram(ctx context.Context, m *gobuild.Module, kind gobuild.Kind, flags []string) (string, func(), error) {
	exe, remove, err := m.Build(ctx, kind, flags)
	var be *reload.BuildError
	var none *gobuild.NoAppsError
	switch {
	case errors.As(err, &be):
		return "", nil, fmt.Errorf("the apps of %s do not build:\n%s", m.Path, strings.TrimSpace(be.Output))
	case errors.As(err, &none):
		return "", nil, &usageError{err: err, hint: "Write an app with: wsgo new NAME"}
	}
	return exe, remove, err
}

// passThrough runs the module's program with wsgo's own arguments, as if
// the user had run it: `wsgo routes` in a module is the module's routes.
func passThrough(c *cobra.Command, m *gobuild.Module) error {
	exe, done, err := buildProgram(c.Context(), m, gobuild.Dev, buildFlags(false))
	if err != nil {
		return err
	}
	defer done()
	stderr := &panicSpotter{w: c.ErrOrStderr()}
	cmd := exec.Command(exe, cliArgs...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.OutOrStdout(), stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if stderr.panicked {
			// Go exits 2 after a panic, which would read as a usage error.
			return fmt.Errorf("the program of %s panicked (above), before it could answer: fix the panic and run wsgo again", m.Path)
		}
		return &exitError{code: ee.ExitCode()}
	}
	return err
}

// panicSpotter passes a program's standard error through, noting whether a
// line began as the runtime's report of a panic or a fatal error does.
type panicSpotter struct {
	w        io.Writer
	line     []byte // the start of the current line
	panicked bool
}

func (p *panicSpotter) Write(b []byte) (int, error) {
	for _, c := range b {
		if c == '\n' {
			p.line = p.line[:0]
			continue
		}
		if len(p.line) < len("fatal error: ") {
			p.line = append(p.line, c)
			s := string(p.line)
			p.panicked = p.panicked || s == "panic: " || s == "fatal error: "
		}
	}
	return p.w.Write(b)
}

// withStderr adds what a program wrote to its standard error to the error
// of its failed run, where that was captured.
func withStderr(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w:\n%s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}
