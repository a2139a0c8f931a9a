package gobuild

// A user's Go module that uses wsgo, the packages in it that hold apps, and
// the main package that serves them, which the go command builds through
// -overlay so that nothing is written into the module, the way go test
// builds the main package of a test.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"golang.org/x/mod/modfile"
)

// Wsgo is wsgo's module path; Contract the package apps are written to.
const (
	Wsgo     = "github.com/wsgo/wsgo"
	Contract = Wsgo + "/wsgi"
)

// ErrNoModule is returned outside any Go module; ErrNoGo where the go
// command is not there to build one.
var (
	ErrNoModule = errors.New("no go.mod here or in a directory above")
	ErrNoGo     = errors.New("the go command is not on PATH, so no module can be built")
)

// NotRequiredError is returned for a module that does not require wsgo.
// Its message says how to add wsgo: with go get where the go command can
// fetch it, or else from a clone of wsgo (see [HowToAdd]). It asks the go
// command which, once, when the message is first wanted.
type NotRequiredError struct {
	Module string
	Dir    string // the module's root

	once sync.Once
	msg  string
}

func (e *NotRequiredError) Error() string {
	e.once.Do(func() {
		how, why := HowToAdd(e.Dir)
		if why == "" {
			e.msg = fmt.Sprintf("module %s does not require %s; add it with: %s", e.Module, Wsgo, how)
			return
		}
		e.msg = fmt.Sprintf("module %s does not require %s, and %s; add it from a clone of wsgo with: %s", e.Module, Wsgo, why, how)
	})
	return e.msg
}

// HowToAdd returns the command that makes the module at dir (or a module
// about to be made there) require wsgo: go get, where the go command can
// fetch wsgo. Where it cannot (wsgo is not published yet, or the network
// or the proxy is off), it returns the steps that take wsgo from a clone of
// it instead, and why go get would fail.
func HowToAdd(dir string) (how, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "go", "list", "-m", "-mod=mod", Wsgo+"@latest")
	c.Dir = dir
	out, err := c.CombinedOutput()
	if err == nil {
		return "go get " + Wsgo, ""
	}
	reason := strings.TrimPrefix(firstLine(string(out)), "go: module "+Wsgo+": ")
	if ctx.Err() != nil {
		reason = "the go command had no answer in 20s"
	}
	return fmt.Sprintf("go mod edit -replace %s=%s && go get %s@v0.0.0", Wsgo, clonePath(), Wsgo),
		fmt.Sprintf("the go command cannot fetch it (%s)", cmp.Or(reason, err.Error()))
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// clonePath is the root of the clone of wsgo this program was built from,
// if it is still there, or a placeholder for one.
func clonePath() string {
	_, file, _, ok := runtime.Caller(0)
	if ok && filepath.IsAbs(file) {
		root := filepath.Dir(filepath.Dir(filepath.Dir(file))) // above reload/gobuild
		if path, ok := ModulePath(filepath.Join(root, "go.mod")); ok && path == Wsgo {
			return root
		}
	}
	return "/path/to/wsgo"
}

// Module is a Go module that uses wsgo.
type Module struct {
	Path string // module path, from go.mod
	Dir  string // its root directory
	// Apps are the import paths of its packages that import the contract
	// (main packages aside): importing them registers the module's apps.
	Apps []string
	// OwnModFile: the program builds with a copy of the module's go.mod.
	// Not in a go.work workspace (no -modfile there, and its sums are in
	// go.work.sum), nor in a module that vendors its dependencies (the go
	// command builds from vendor/ there).
	OwnModFile bool

	synced    [2][]byte // go.mod and go.sum as last copied,
	syncedDir string    // into this directory
}

// Find returns the module at or above dir, with its app packages.
func Find(dir string) (*Module, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return nil, ErrNoGo
	}
	gomod, err := goCmd(dir, "env", "GOMOD")
	if err != nil {
		return nil, err
	}
	gomod = strings.TrimSpace(gomod)
	if gomod == "" || gomod == os.DevNull {
		return nil, ErrNoModule
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return nil, err
	}
	m := &Module{Path: modfile.ModulePath(data), Dir: filepath.Dir(gomod)}
	m.OwnModFile = !vendored(m.Dir) && !workspace(m.Dir)
	if m.Path == Wsgo {
		return m, nil // wsgo's own module: its apps are built in
	}
	if _, err := goCmd(m.Dir, "list", "-m", Wsgo); err != nil {
		if strings.Contains(err.Error(), "not a known dependency") {
			return nil, &NotRequiredError{Module: m.Path, Dir: m.Dir}
		}
		return nil, fmt.Errorf("finding %s among the requirements of %s: %w", Wsgo, m.Path, err)
	}
	if err := m.FindApps(); err != nil {
		return nil, err
	}
	return m, nil
}

// FindApps sets Apps to the module's packages that import the contract
// now: a package may have been added, or stopped importing it, since Find.
func (m *Module) FindApps() error {
	out, err := goCmd(m.Dir, "list", "-e", "-f", `{{.ImportPath}} {{.Name}}{{range .Imports}} {{.}}{{end}}`, "./...")
	if err != nil {
		return err
	}
	m.Apps = nil
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[1] != "main" && slices.Contains(f[2:], Contract) {
			m.Apps = append(m.Apps, f[0])
		}
	}
	return nil
}

// Rel names an app package from the module's root: ./greet.
func (m *Module) Rel(pkg string) string {
	if rel, ok := strings.CutPrefix(pkg, m.Path); ok {
		return "." + rel
	}
	return pkg
}

// Kind is what a generated program does with the apps.
type Kind string

const (
	// Dev is wsgo's whole command line, to serve the apps with reload.
	Dev Kind = "dev"
	// Production serves the apps with serve.Main, nothing for development.
	Production Kind = "build"
)

var mainGo = template.Must(template.New("main").Parse(`// Code generated by wsgo; DO NOT EDIT.

package main

import (
	{{.Entry}}
{{range .Apps}}	_ "{{.}}"
{{end}})

func main() { {{.Call}} }
`))

// Generate writes the main package of a program of kind into dir (a
// directory of wsgo's, outside the module) and returns the package to build,
// relative to the module's root, and the flags that place it in the module.
func (m *Module) Generate(dir string, kind Kind) (pkg string, flags []string, err error) {
	entry, call := `"`+Wsgo+`/cmd"`, "cmd.Execute()"
	if kind == Production {
		entry, call = `"`+Wsgo+`/serve"`, "serve.Main()"
	}
	var src bytes.Buffer
	if err := mainGo.Execute(&src, map[string]any{"Entry": entry, "Call": call, "Apps": m.Apps}); err != nil {
		return "", nil, err
	}
	pkg, file, err := m.overlay(dir, string(kind), src.Bytes())
	if err != nil {
		return "", nil, err
	}
	flags = []string{"-overlay", file}
	if m.OwnModFile {
		flags = append(flags, "-modfile", filepath.Join(dir, "go.mod"))
	}
	return pkg, flags, m.syncModFile(dir, strings.Trim(entry, `"`))
}

// overlay writes src, a main package, into dir, and the -overlay file
// that places it in the module as the package ./.wsgo/name: a directory no
// one writes, with a name no ./... pattern matches.
func (m *Module) overlay(dir, name string, src []byte) (pkg, file string, err error) {
	main := filepath.Join(dir, name+"-main.go")
	if err := os.WriteFile(main, src, 0o644); err != nil {
		return "", "", err
	}
	data, err := json.Marshal(map[string]map[string]string{
		"Replace": {filepath.Join(m.Dir, ".wsgo", name, "main.go"): main},
	})
	if err != nil {
		return "", "", err
	}
	file = filepath.Join(dir, name+"-overlay.json")
	return "./.wsgo/" + name, file, os.WriteFile(file, data, 0o644)
}

func vendored(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "vendor", "modules.txt"))
	return err == nil
}

// syncModFile copies the module's go.mod and go.sum into dir, and has the
// go command complete the copy with what entry (wsgo's command line, or its
// production server) needs, and nothing else: a package of the module's own
// that its go.mod lacks fails to build, as with go build. While the module's
// files are as last copied, the copy is kept: no go command runs.
func (m *Module) syncModFile(dir, entry string) error {
	if !m.OwnModFile {
		return nil
	}
	var now [2][]byte
	for i, name := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(m.Dir, name))
		if errors.Is(err, os.ErrNotExist) && name == "go.sum" {
			data, err = []byte{}, nil
		}
		if err != nil {
			return err
		}
		now[i] = data
	}
	if dir == m.syncedDir && bytes.Equal(now[0], m.synced[0]) && bytes.Equal(now[1], m.synced[1]) {
		return nil
	}
	for i, name := range []string{"go.mod", "go.sum"} {
		if err := os.WriteFile(filepath.Join(dir, name), now[i], 0o644); err != nil {
			return err
		}
	}
	// The go command completes a go.mod with what a package of the main
	// module needs, not with what a dependency's package does: the list is
	// of a main package of the module's own, written only in an overlay,
	// that imports entry and nothing else (so that nothing the module's
	// own packages lack is looked up). Listing entry itself did nothing
	// once go mod tidy had dropped wsgo's requirements from go.mod.
	pkg, file, err := m.overlay(dir, "sync", []byte("package main\n\nimport _ \""+entry+"\"\n\nfunc main() {}\n"))
	if err != nil {
		return err
	}
	if _, err := goCmd(m.Dir, "list", "-modfile", filepath.Join(dir, "go.mod"), "-overlay", file, "-mod=mod", "-e", "-deps", pkg); err != nil {
		return err
	}
	m.synced, m.syncedDir = now, dir
	return nil
}

// workspace reports whether dir builds in a go.work workspace.
func workspace(dir string) bool {
	out, err := goCmd(dir, "env", "GOWORK")
	return err == nil && strings.TrimSpace(out) != "" && strings.TrimSpace(out) != "off"
}

// goCmd runs the go command in dir and returns its output, or its error
// output as the error.
func goCmd(dir string, args ...string) (string, error) {
	c := exec.Command("go", args...)
	c.Dir = dir
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", errors.New(msg)
		}
		return "", fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// NoAppsError is returned for a module none of whose packages imports the
// contract yet: there is nothing to build.
type NoAppsError struct{ Module string }

func (e *NoAppsError) Error() string {
	return fmt.Sprintf("module %s has no package that imports %s yet", e.Module, Contract)
}

// Builder returns a Builder of the module's program of kind. Before each
// build after the first, it looks for the module's app packages again (one
// may have been added or renamed) and writes the main package anew; the
// go.mod copy follows the module's own.
func (m *Module) Builder(kind Kind, flags []string) (*Builder, error) {
	if len(m.Apps) == 0 {
		return nil, &NoAppsError{Module: m.Path}
	}
	b, err := NewBuilder(Source{Root: m.Dir, Module: m.Path})
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

// Build builds the module's program of kind once, into a temporary
// directory, and returns it with the function that removes it. A program
// that does not build is a *reload.BuildError.
func (m *Module) Build(ctx context.Context, kind Kind, flags []string) (exe string, remove func(), err error) {
	b, err := m.Builder(kind, flags)
	if err != nil {
		return "", nil, err
	}
	exe, err = b.build(ctx)
	if err != nil {
		b.Close()
		return "", nil, err
	}
	return exe, func() { b.Close() }, nil
}
