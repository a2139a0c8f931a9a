package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/build"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/mod/modfile"

	"github.com/wsgo/wsgo/reload/gobuild"
	"github.com/wsgo/wsgo/wsgi"
)

const wsgoModule = "github.com/wsgo/wsgo"

func newNew() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "new NAME",
		Short: "Write a new app, made with the router, and its test",
		Long: `Write DIR/NAME.go, an app registered as NAME and made with the router, and
DIR/NAME_test.go, its test on wsgi/wsgitest. DIR is NAME unless --dir says
otherwise: in your own module, wsgo serve NAME then finds the new package by
itself. NAME must be a Go identifier, and the names the
app declares (for blog: Blog, blogIndex, blogItem and TestBlog) must be free
in the package. Existing files are never overwritten.`,
		Example: `  wsgo new blog
  wsgo new shop --dir internal/apps   # writes internal/apps/shop.go`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{err: fmt.Errorf("new takes one app name, got %d", len(args)), hint: "Usage: " + c.UseLine()}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return writeNewApp(c, dir, args[0])
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory of the package to write the app into (default NAME; apps in wsgo's own module)")
	return c
}

func writeNewApp(c *cobra.Command, dir, name string) error {
	data, err := planApp(dir, name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(data.Dir, 0o755); err != nil {
		return err
	}
	for _, f := range data.files() {
		var b bytes.Buffer
		if err := f.tmpl.Execute(&b, data); err != nil {
			return err
		}
		src, err := format.Source(b.Bytes())
		if err != nil {
			return fmt.Errorf("new: generated code does not parse: %w", err)
		}
		if err := os.WriteFile(f.path, src, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(c.OutOrStdout(), "wrote %s\n", f.path)
	}
	switch {
	case data.Builtin:
	case data.Module == ownModule():
		// The library way: this program is the module's own main.
		fmt.Fprintf(c.OutOrStdout(), "Import %s/%s from your main package (import _ \"…\") so that it registers, then: wsgo serve %s\n",
			data.Module, filepath.ToSlash(filepath.Clean(data.Dir)), name)
	default:
		fmt.Fprintf(c.OutOrStdout(), "Serve it with: wsgo serve %s\n", name)
	}
	return nil
}

// planApp checks that an app called name can be written into dir, and
// returns what the templates need.
func planApp(dir, name string) (newAppData, error) {
	if !token.IsIdentifier(name) || name == "_" {
		return newAppData{}, usageErrorf("invalid app name %q: use a Go identifier, such as blog or userAdmin", name)
	}
	if why := unbuildableFile(name); why != "" {
		return newAppData{}, usageErrorf("invalid app name %q: %s.go would be %s; pick another name", name, name, why)
	}
	module, err := moduleAt(".")
	if err != nil {
		return newAppData{}, err
	}
	if wd, err := os.Getwd(); err == nil {
		var nr *gobuild.NotRequiredError
		if _, err := gobuild.Find(wd); errors.As(err, &nr) {
			return newAppData{}, usageErrorf("%v; the app would not build without it", err)
		}
	}
	if dir == "" {
		dir = name
		if module == wsgoModule {
			dir = "apps"
		}
	}
	// This binary's own apps are the module's only in wsgo's module or when
	// the module's main runs wsgo; elsewhere the source says what is taken.
	if _, taken := wsgi.Lookup(name); taken && (module == wsgoModule || module == ownModule()) {
		return newAppData{}, usageErrorf("app %q is already registered; pick another name", name)
	}
	if file := sourceRegistering(name); file != "" {
		return newAppData{}, usageErrorf("app %q is already registered, by %s; pick another name", name, file)
	}
	first, size := utf8.DecodeRuneInString(name)
	data := newAppData{
		Dir: dir, Module: module, Package: packageName(dir),
		Name: name, Type: string(unicode.ToUpper(first)) + name[size:],
		Builtin: module == wsgoModule && filepath.Clean(dir) == "apps", // wsgo's main imports it
	}
	for _, f := range data.files() {
		if _, err := os.Stat(f.path); err == nil {
			return newAppData{}, fmt.Errorf("%s already exists; wsgo new never overwrites a file", f.path)
		}
	}
	return data, checkUndeclared(data)
}

// unbuildableFile says what the go command would take a file named name.go
// for, when not a file to build everywhere: one to skip (a leading _), a
// test (_test), or one for some systems or processors only (_linux,
// _arm64); or "" when it builds everywhere.
func unbuildableFile(name string) string {
	switch {
	case strings.HasPrefix(name, "_"):
		return "skipped by the go command"
	case strings.HasSuffix(name, "_test"):
		return "a test file"
	}
	empty := func(string) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("package p\n")), nil }
	for _, target := range [][2]string{{"linux", "amd64"}, {"windows", "arm64"}, {"darwin", "386"}} {
		ctx := build.Default
		ctx.GOOS, ctx.GOARCH, ctx.OpenFile = target[0], target[1], empty
		if ok, err := ctx.MatchFile(".", name+".go"); err != nil || !ok {
			return "built only for some systems"
		}
	}
	return ""
}

// moduleAt returns the module path of the go.mod at or above dir.
func moduleAt(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	root, ok := moduleRoot(abs)
	if !ok {
		return "", &usageError{err: errors.New("no go.mod here or above: wsgo new writes into a Go module"),
			hint: "Start one with: go mod init example.com/site && go get " + gobuild.Wsgo}
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	return modfile.ModulePath(data), nil
}

// moduleRoot returns the directory of the go.mod at or above dir, an
// absolute path, if there is one.
func moduleRoot(dir string) (string, bool) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, true
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// packageName is the package already in dir, or the directory's name.
// Files that build constraints leave out, such as a generator's package
// main, do not count.
func packageName(dir string) string {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasSuffix(name, "_test.go") {
			continue
		}
		if ok, err := build.Default.MatchFile(dir, name); err != nil || !ok {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, name), nil, parser.PackageClauseOnly)
		if err == nil {
			return f.Name.Name
		}
	}
	base := filepath.Base(filepath.Clean(dir))
	if !token.IsIdentifier(base) {
		return "apps"
	}
	return base
}

type newAppData struct {
	Dir, Module         string
	Name, Type, Package string
	Builtin             bool // an app among wsgo's own built-ins
}

// appFile is one file wsgo new writes.
type appFile struct {
	path string
	tmpl *template.Template
}

func (d newAppData) files() []appFile {
	return []appFile{
		{filepath.Join(d.Dir, d.Name+".go"), appTemplate},
		{filepath.Join(d.Dir, d.Name+"_test.go"), testTemplate},
	}
}

// declares lists the package-level names the templates declare, and the
// names their imports take in the files' scope, which no package-level
// declaration may take either.
func (d newAppData) declares() []string {
	return []string{d.Type, d.Name + "Index", d.Name + "Item", "Test" + d.Type, "iter", "testing", "wsgi", "wsgitest"}
}

// checkUndeclared refuses an app whose generated code would not compile
// because the package in dir already declares one of its names.
func checkUndeclared(data newAppData) error {
	declared := packageDecls(data.Dir, data.Package)
	for _, id := range data.declares() {
		if where, ok := declared[id]; ok {
			return usageErrorf("cannot add app %q to %s: its code would declare %s, which %s already declares; pick another name",
				data.Name, filepath.ToSlash(filepath.Clean(data.Dir)), id, where)
		}
	}
	return nil
}

// packageDecls maps each name declared at package level in dir's package
// pkg, tests included, to where it is declared. A file that does not parse
// gives the declarations before its first error.
func packageDecls(dir, pkg string) map[string]string {
	decls := map[string]string{}
	fset := token.NewFileSet()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, file := range files {
		f, _ := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if f == nil || f.Name == nil || f.Name.Name != pkg {
			continue
		}
		for _, id := range topLevelNames(f) {
			pos := fset.Position(id.Pos())
			decls[id.Name] = fmt.Sprintf("%s:%d", filepath.ToSlash(pos.Filename), pos.Line)
		}
	}
	return decls
}

// topLevelNames returns the names f declares in the package block: methods,
// init functions and blank names take none.
func topLevelNames(f *ast.File) []*ast.Ident {
	var ids []*ast.Ident
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil && d.Name.Name != "init" {
				ids = append(ids, d.Name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					ids = append(ids, spec.Name)
				case *ast.ValueSpec:
					ids = append(ids, spec.Names...)
				}
			}
		}
	}
	return slices.DeleteFunc(ids, func(id *ast.Ident) bool { return id.Name == "_" })
}

var appTemplate = template.Must(template.New("app").Parse(`package {{.Package}}

import (
	"iter"

	"github.com/wsgo/wsgo/wsgi"
)

func init() {
	wsgi.Register("{{.Name}}", {{.Type}}(), wsgi.Describe("the {{.Name}} app"))
}

// {{.Type}} returns the {{.Name}} app: add a route with HandleFunc.
func {{.Type}}() *wsgi.Router {
	r := wsgi.NewRouter()
	r.HandleFunc("GET /{$}", {{.Name}}Index)
	r.HandleFunc("GET /items/{id}", {{.Name}}Item)
	return r
}

func {{.Name}}Index(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	start("200 OK", wsgi.Headers{ {Name: "Content-Type", Value: "text/plain; charset=utf-8"} })
	return wsgi.BodyString("{{.Name}}: hello\n")
}

func {{.Name}}Item(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	start("200 OK", wsgi.Headers{ {Name: "Content-Type", Value: "text/plain; charset=utf-8"} })
	return wsgi.BodyString("{{.Name}}: item ", env.PathValue("id"), "\n")
}
`))

var testTemplate = template.Must(template.New("test").Parse(`package {{.Package}}

import (
	"testing"

	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

// Test{{.Type}} calls the app as a server does and checks each route.
func Test{{.Type}}(t *testing.T) {
	app := {{.Type}}()
	for path, want := range map[string]string{
		"/":         "{{.Name}}: hello\n",
		"/items/42": "{{.Name}}: item 42\n",
	} {
		resp := wsgitest.Get(app, path)
		if resp.Code != 200 || resp.Body != want {
			t.Errorf("GET %s: %s %q, want 200 OK %q\n%s", path, resp.Status, resp.Body, want, resp.Log)
		}
	}
}
`))
