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
	"sync"

	"github.com/spf13/cobra"

	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/internal/project"
	"github.com/wsgo/wsgo/reload"
	"github.com/wsgo/wsgo/wsgi"
)

// locate finds the user's module that wsgo runs in, when its apps are not
// this binary's own: wsgo installed with go install, run in a module that
// requires it. It returns nil and no error when this binary's apps are the
// ones to use: in wsgo's own module, in a module whose own main runs wsgo's
// command line, or outside any module for a built-in app. An app that
// cannot be found anywhere is a usage error that says how to start.
func locate(app string) (*project.Module, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	m, err := project.Find(wd)
	_, builtin := wsgi.Lookup(app)
	var nr *project.NotRequiredError
	outside := errors.Is(err, project.ErrNoModule) || errors.Is(err, project.ErrNoGo) || errors.As(err, &nr)
	switch {
	case err == nil && (m.Path == project.Wsgo || m.Path == ownModule()):
		return nil, nil
	case err == nil:
		return m, nil
	case outside && (builtin || app == ""):
		return nil, nil
	}
	switch {
	case errors.Is(err, project.ErrNoModule):
		add, _ := project.HowToAdd(wd)
		return nil, &usageError{
			err: fmt.Errorf("unknown app %q: there is no Go module here, and this wsgo has only its built-in apps (%s)", app, strings.Join(wsgi.Names(), ", ")),
			hint: fmt.Sprintf("To serve apps of your own, start a module:\n"+
				"  go mod init example.com/site && %s && wsgo new %s && wsgo serve %s\n"+
				"or run wsgo in the module that has them. To try wsgo first: wsgo serve demo", add, app, app),
		}
	case errors.As(err, &nr):
		return nil, &usageError{err: fmt.Errorf("unknown app %q: %v", app, err),
			hint: fmt.Sprintf("Then write an app: wsgo new %s", app)}
	case errors.Is(err, project.ErrNoGo):
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

// projectBuild builds the program that serves the module's apps: wsgo's
// command line with the module's app packages, from the module's own copy of
// wsgo. The builder goes on rebuilding it; Close removes it.
func projectBuild(m *project.Module, o serveOptions) (*reload.GoBuilder, error) {
	return newBuilder(m, project.Dev, buildFlags(o.debugInfo))
}

// newBuilder returns a builder of the module's program of kind. Before each
// build after the first, it looks for the module's app packages again (one
// may have been added or renamed) and writes the main package anew; the
// go.mod copy follows the module's own.
func newBuilder(m *project.Module, kind project.Kind, flags []string) (*reload.GoBuilder, error) {
	if len(m.Apps) == 0 {
		return nil, &usageError{err: fmt.Errorf("module %s has no package that imports %s yet", m.Path, project.Contract),
			hint: "Write an app with: wsgo new NAME"}
	}
	b, err := reload.NewGoBuilder(reload.Source{Root: m.Dir, Module: m.Path})
	if err != nil {
		return nil, err
	}
	pkg, gen, err := m.Generate(b.Dir(), kind)
	if err != nil {
		b.Close()
		return nil, err
	}
	b.Source.Package = pkg
	b.Flags = append(gen, flags...)
	b.Name = "go build of the apps of " + m.Path
	var mu sync.Mutex // a cancelled build may still be in Before
	first := true
	b.Before = func() error {
		mu.Lock()
		defer mu.Unlock()
		if first { // just found and written
			first = false
			return nil
		}
		// Only the app packages can have changed since the module was
		// found (a package added while serving); the module cannot.
		if err := m.FindApps(); err != nil {
			return err
		}
		_, _, err := m.Generate(b.Dir(), kind)
		return err
	}
	return b, nil
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
func unknownProjectApp(m *project.Module, name string, names []string) error {
	msg := fmt.Sprintf("unknown app %q", name)
	if s := suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	where := make([]string, len(m.Apps))
	for i, p := range m.Apps {
		where[i] = m.Rel(p)
	}
	return &usageError{err: errors.New(msg),
		hint: fmt.Sprintf("The apps of %s are %s, registered by the packages %s.", m.Path, strings.Join(names, ", "), strings.Join(where, ", "))}
}

// serveProject serves an app of the user's module: it builds the module's
// program, checks that it has the app, and supervises it, rebuilding on
// every save unless --no-reload.
func serveProject(ctx context.Context, now <-chan struct{}, m *project.Module, name string, o serveOptions, log *devserver.Logger) error {
	if err := checkAddr(o.host, o.port); err != nil {
		return err
	}
	if err := o.checkReloadFlags(); err != nil {
		return err
	}
	b, err := projectBuild(m, o)
	if err != nil {
		return err
	}
	defer b.Close()
	where := make([]string, len(m.Apps))
	for i, p := range m.Apps {
		where[i] = m.Rel(p)
	}
	log.Printf(" * Building %s (apps in %s)", m.Path, strings.Join(where, ", "))
	first, err := b.Build(ctx)
	var be *reload.BuildError
	switch {
	case ctx.Err() != nil:
		return nil // stopped while building, as asked
	case errors.As(err, &be):
		first = "" // the supervisor builds again, and shows the error page
	case err != nil:
		return err
	default:
		names, err := appsOf(first)
		if err != nil {
			return err
		}
		for _, want := range append([]string{name}, mountedApps(o.mounts)...) {
			if !slices.Contains(names, want) {
				os.Remove(first)
				return unknownProjectApp(m, want, names)
			}
		}
	}
	ln, err := listen(o.host, o.port)
	if err != nil {
		return err
	}
	if url := banner(log, name, o.mounts, ln.Addr().(*net.TCPAddr)); o.open {
		openBrowser(url, log)
	}
	sup := &reload.Supervisor{
		Listener:     ln.(*net.TCPListener),
		Builder:      b,
		First:        first,
		Args:         os.Args[1:],
		Color:        o.colorOn(),
		Grace:        o.grace,
		ReadyTimeout: o.readyTimeout,
		Log:          log,
		Abort:        now,
	}
	if o.noReload {
		log.Notef(" * Reload is off (--no-reload)")
		return sup.Run(ctx)
	}
	w, err := o.watcher(reload.Source{Root: m.Dir, Module: m.Path, Package: b.Source.Package}, log)
	if err != nil {
		return err
	}
	defer w.Close()
	b.Watcher = w
	sup.Changes, sup.Errors, sup.Keys = w.Changes, w.Errors, os.Stdin
	return sup.Run(ctx)
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
func buildProgram(ctx context.Context, m *project.Module, kind project.Kind, flags []string) (string, func(), error) {
	b, err := newBuilder(m, kind, flags)
	if err != nil {
		return "", nil, err
	}
	exe, err := b.Build(ctx)
	if err != nil {
		b.Close()
		var be *reload.BuildError
		if errors.As(err, &be) {
			return "", nil, fmt.Errorf("the apps of %s do not build:\n%s", m.Path, strings.TrimSpace(be.Output))
		}
		return "", nil, err
	}
	return exe, func() { b.Close() }, nil
}

// passThrough runs the module's program with wsgo's own arguments, as if
// the user had run it: `wsgo routes` in a module is the module's routes.
func passThrough(c *cobra.Command, m *project.Module) error {
	exe, done, err := buildProgram(c.Context(), m, project.Dev, buildFlags(false))
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
