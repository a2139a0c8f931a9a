package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPackageName(t *testing.T) {
	root := t.TempDir()
	existing := filepath.Join(root, "store")
	os.MkdirAll(existing, 0o755)
	os.WriteFile(filepath.Join(existing, "x_test.go"), []byte("package store_test\n"), 0o644)
	os.WriteFile(filepath.Join(existing, "x.go"), []byte("// Package shop sells.\npackage shop\n"), 0o644)
	os.WriteFile(filepath.Join(existing, "gen.go"), []byte("//go:build ignore\n\npackage main\n"), 0o644)
	for dir, want := range map[string]string{
		existing:                          "shop", // the package clause wins over the directory's name
		filepath.Join(root, "widgets"):    "widgets",
		filepath.Join(root, "my-apps"):    "apps", // not an identifier
		filepath.Join(root, "apps", "v2"): "v2",
	} {
		if got := packageName(dir); got != want {
			t.Errorf("packageName(%s) = %q, want %q", dir, got, want)
		}
	}
}

// newModule writes a module with path modPath and files (path → content)
// into a temporary directory, and returns the directory.
// requireWsgo is what go.mod says to require this checkout of wsgo.
func requireWsgo(t *testing.T) string {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return "\nrequire github.com/wsgo/wsgo v0.0.0\n\nreplace github.com/wsgo/wsgo => " + repo + "\n"
}

// TestNewNeedsWsgo: in a module that does not require wsgo, the app would
// not build, so wsgo new says what to run first.
func TestNewNeedsWsgo(t *testing.T) {
	e2e(t)
	dir := newModule(t, "example.com/other", map[string]string{})
	code, out := runIn(t, dir, wsgoBin, "new", "blog")
	if code != exitUsage || !strings.Contains(out, "add it with: go get github.com/wsgo/wsgo") {
		t.Errorf("exit %d %q", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "blog")); err == nil {
		t.Error("wsgo new wrote an app that cannot build")
	}
	code, out = runIn(t, t.TempDir(), wsgoBin, "new", "blog")
	if code != exitUsage || !strings.Contains(out, "go mod init") {
		t.Errorf("outside a module: exit %d %q", code, out)
	}
}

func newModule(t *testing.T, modPath string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["go.mod"] = "module " + modPath + "\n\ngo 1.25.0\n" + files["go.mod"]
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// wsgoModuleCopy writes a copy of wsgo's own apps package and the packages
// it and its tests import, tests left out, into a module named as wsgo's,
// and returns its directory.
func wsgoModuleCopy(t *testing.T) string {
	t.Helper()
	files := map[string]string{}
	for _, dir := range []string{"apps", "wsgi", "wsgi/wsgitest", "internal/syncbuf"} {
		sources, _ := filepath.Glob(filepath.Join("..", dir, "*.go"))
		for _, src := range sources {
			if strings.HasSuffix(src, "_test.go") {
				continue
			}
			data, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			files[dir+"/"+filepath.Base(src)] = string(data)
		}
	}
	return newModule(t, wsgoModule, files)
}

// runIn runs command name in dir, a bounded time, and returns its exit
// code and output.
func runIn(t *testing.T, dir, name string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, name, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "GOPROXY=off", "GOTOOLCHAIN=local", "GOWORK=off")
	out, err := c.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %v did not finish: %s", name, args, out)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return c.ProcessState.ExitCode(), string(out)
}

func TestNewRefusesInvalidNames(t *testing.T) {
	e2e(t)
	dir := newModule(t, "example.com/site", map[string]string{})
	for _, name := range []string{"9lives", "func", "_", "my-app", ""} {
		code, out := runIn(t, dir, wsgoBin, "new", name)
		if code != exitUsage || !strings.Contains(out, fmt.Sprintf("invalid app name %q: use a Go identifier", name)) {
			t.Errorf("new %q: exit %d %q; want 2 and invalid app name", name, code, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "apps")); err == nil {
		t.Error("a refused name still wrote apps/")
	}
}

// TestNewRefusesDeclaredNames: a name whose generated code would redeclare
// one of the package's names is refused, and nothing is written.
func TestNewRefusesDeclaredNames(t *testing.T) {
	e2e(t)
	site := newModule(t, "example.com/site", map[string]string{
		"go.mod":          requireWsgo(t),
		"apps/site.go":    "package apps\n\nfunc Dump() {}\n\nvar (\n\tx, blogIndex = 1, 2\n)\n\ntype T struct{}\n\nfunc (T) Shop() {}\n",
		"apps/x_test.go":  "package apps_test\n\nfunc TestCart() {}\n",
		"store/store.go":  "package store\n\nconst wsgi = 1\n",
		"broken/a.go":     "package broken\n\nfunc Shop() {}\n\nfunc oops( {\n",
		"apps/ignored.go": "//go:build ignore\n\npackage main\n\nfunc Cart() {}\n",
	})
	for _, tt := range []struct {
		dir, args, want string
	}{
		{site, "new dump --dir apps", `cannot add app "dump" to apps: its code would declare Dump, which apps/site.go:3 already declares; pick another name`},
		{site, "new blog --dir apps", "would declare blogIndex, which apps/site.go:6 already declares"},
		{site, "new blog --dir store", "would declare wsgi, which store/store.go:3 already declares"},
		{site, "new _x", `invalid app name "_x": _x.go would be skipped by the go command`},
		{site, "new foo_test", `foo_test.go would be a test file`},
		{site, "new foo_linux", `foo_linux.go would be built only for some systems`},
		{site, "new shop --dir broken", "would declare Shop, which broken/a.go:3 already declares"},
		// wsgo's own apps package declares Dump, for the demo app.
		{wsgoModuleCopy(t), "new dump", "would declare Dump, which apps/demo.go:"},
	} {
		code, out := runIn(t, tt.dir, wsgoBin, strings.Fields(tt.args)...)
		if code != exitUsage || !strings.Contains(out, tt.want) {
			t.Errorf("%s: exit %d %q; want 2 and %q", tt.args, code, out, tt.want)
		}
	}
	for _, name := range []string{"apps/dump.go", "apps/blog.go", "store/blog.go"} {
		if _, err := os.Stat(filepath.Join(site, name)); err == nil {
			t.Errorf("a refused app still wrote %s", name)
		}
	}
	// Methods, other packages' tests and ignored files declare nothing in
	// the package block.
	for _, name := range []string{"shop", "cart"} {
		if code, out := runIn(t, site, wsgoBin, "new", name); code != 0 {
			t.Errorf("new %s: exit %d %s", name, code, out)
		}
	}
}

// TestNewAppCompiles: the generated app and its test pass go vet, which
// type-checks them, both inside wsgo's own apps package and in a module of
// one's own.
func TestNewAppCompiles(t *testing.T) {
	e2e(t)
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	own := newModule(t, "example.com/site", map[string]string{
		"go.mod": "\nrequire " + wsgoModule + " v0.0.0\n\nreplace " + wsgoModule + " => " + repo + "\n",
	})
	for _, tt := range []struct {
		dir  string
		args []string
	}{
		{wsgoModuleCopy(t), []string{"new", "blog"}},
		{own, []string{"new", "blog"}},
		{own, []string{"new", "été", "--dir", "internal/shop"}},
	} {
		if code, out := runIn(t, tt.dir, wsgoBin, tt.args...); code != 0 {
			t.Fatalf("wsgo %v: exit %d %s", tt.args, code, out)
		}
		if code, out := runIn(t, tt.dir, "go", "vet", "./..."); code != 0 {
			t.Errorf("after wsgo %v, go vet: exit %d\n%s", tt.args, code, out)
		}
	}
}
