package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
	"golang.org/x/mod/modfile"

	"github.com/wsgo/wsgo/apps"
)

const wsgoModule = "github.com/wsgo/wsgo"

func newNew() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "new NAME",
		Short: "Write a new app, made with the router, and its test",
		Long: `Write DIR/NAME.go, an app registered as NAME and made with the router, and
DIR/NAME_test.go, its test. NAME must be a Go identifier. Existing files are
never overwritten.`,
		Example: `  wsgo new blog
  wsgo new shop --dir internal/apps`,
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
	c.Flags().StringVar(&dir, "dir", "apps", "directory of the package to write the app into")
	return c
}

func writeNewApp(c *cobra.Command, dir, name string) error {
	if !token.IsIdentifier(name) || token.IsKeyword(name) {
		return usageErrorf("invalid app name %q: use a Go identifier, such as blog or userAdmin", name)
	}
	if _, taken := apps.Lookup(name); taken {
		return usageErrorf("app %q is already registered; pick another name", name)
	}
	module, err := moduleAt(".")
	if err != nil {
		return err
	}
	data := newAppData{Name: name, Type: strings.ToUpper(name[:1]) + name[1:], Package: packageName(dir)}
	data.Qual = "wsgo."
	if module == wsgoModule && filepath.Clean(dir) == "apps" {
		data.Qual = "" // inside wsgo's own apps package
	}
	files := map[string]*template.Template{name + ".go": appTemplate, name + "_test.go": testTemplate}
	for file := range files {
		if _, err := os.Stat(filepath.Join(dir, file)); err == nil {
			return fmt.Errorf("%s already exists; wsgo new never overwrites a file", filepath.Join(dir, file))
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, file := range []string{name + ".go", name + "_test.go"} {
		var b bytes.Buffer
		if err := files[file].Execute(&b, data); err != nil {
			return err
		}
		src, err := format.Source(b.Bytes())
		if err != nil {
			return fmt.Errorf("new: generated code does not parse: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), src, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(c.OutOrStdout(), "wrote %s\n", filepath.Join(dir, file))
	}
	if data.Qual != "" {
		fmt.Fprintf(c.OutOrStdout(), "Import %s/%s from your main package (import _ \"…\") so that it registers, then: wsgo serve %s\n",
			module, filepath.ToSlash(filepath.Clean(dir)), name)
	}
	return nil
}

// moduleAt returns the module path of the go.mod at or above dir.
func moduleAt(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			return modfile.ModulePath(data), nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no go.mod here or above; run wsgo new inside a Go module (go mod init)")
		}
	}
}

// packageName is the package already in dir, or the directory's name.
func packageName(dir string) string {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
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
	Name, Type, Package, Qual string
}

var appTemplate = template.Must(template.New("app").Parse(`package {{.Package}}

import (
	"iter"
{{if .Qual}}
	wsgo "github.com/wsgo/wsgo/apps"
{{end}})

func init() {
	{{.Qual}}Register("{{.Name}}", {{.Type}}(), {{.Qual}}Describe("the {{.Name}} app"))
}

// {{.Type}} returns the {{.Name}} app: add a route with HandleFunc.
func {{.Type}}() *{{.Qual}}Router {
	r := {{.Qual}}NewRouter()
	r.HandleFunc("GET /{$}", {{.Name}}Index)
	r.HandleFunc("GET /items/{id}", {{.Name}}Item)
	return r
}

func {{.Name}}Index(env {{.Qual}}Environ, start {{.Qual}}StartResponse) iter.Seq[[]byte] {
	start("200 OK", {{.Qual}}Headers{ {Name: "Content-Type", Value: "text/plain; charset=utf-8"} })
	return {{.Qual}}BodyString("{{.Name}}: hello\n")
}

func {{.Name}}Item(env {{.Qual}}Environ, start {{.Qual}}StartResponse) iter.Seq[[]byte] {
	start("200 OK", {{.Qual}}Headers{ {Name: "Content-Type", Value: "text/plain; charset=utf-8"} })
	return {{.Qual}}BodyString("{{.Name}}: item ", env.PathValue("id"), "\n")
}
`))

var testTemplate = template.Must(template.New("test").Parse(`package {{.Package}}

import (
	"strings"
	"testing"
{{if .Qual}}
	wsgo "github.com/wsgo/wsgo/apps"
{{end}})

// Test{{.Type}} calls the app as a server does and checks each route.
func Test{{.Type}}(t *testing.T) {
	app := {{.Type}}()
	for path, want := range map[string]string{
		"/":         "{{.Name}}: hello\n",
		"/items/42": "{{.Name}}: item 42\n",
	} {
		var status string
		start := func(s string, _ {{.Qual}}Headers, _ ...error) func([]byte) error {
			status = s
			return func([]byte) error { return nil }
		}
		env := {{.Qual}}Environ{"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": ""}
		var body strings.Builder
		for chunk := range app.ServeWSGI(env, start) {
			body.Write(chunk)
		}
		if status != "200 OK" || body.String() != want {
			t.Errorf("GET %s: %s %q, want 200 OK %q", path, status, body.String(), want)
		}
	}
}
`))
