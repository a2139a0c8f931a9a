package gobuild

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/internal/testkit"
)

// module writes a module that does not require wsgo into a new directory.
func module(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/other\n\ngo 1.25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestNotRequiredFromAClone: where the go command cannot fetch wsgo (here
// the proxy is off, as it is for a module not published yet), the message
// for a module that does not require wsgo gives the steps that work, from
// the clone this test runs in, and not go get alone, which would fail.
func TestNotRequiredFromAClone(t *testing.T) {
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	_, err := Find(module(t))
	var nr *NotRequiredError
	if !errors.As(err, &nr) {
		t.Fatalf("Find: %v, want a NotRequiredError", err)
	}
	root, _ := filepath.Abs("../..")
	msg := err.Error()
	for _, want := range []string{
		"module example.com/other does not require github.com/wsgo/wsgo, and the go command cannot fetch it (",
		"GOPROXY=off",
		"add it from a clone of wsgo with: go mod edit -replace github.com/wsgo/wsgo=" + root + " && go get github.com/wsgo/wsgo@v0.0.0",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message lacks %q:\n%s", want, msg)
		}
	}
}

// TestNotRequiredFetchable: where the go command can fetch wsgo (here from
// a proxy in a directory), the message says go get.
func TestNotRequiredFetchable(t *testing.T) {
	proxy := t.TempDir()
	at := filepath.Join(proxy, "github.com", "wsgo", "wsgo", "@v")
	files := map[string]string{
		"list":        "v0.1.0\n",
		"v0.1.0.info": `{"Version":"v0.1.0","Time":"2026-01-01T00:00:00Z"}`,
		"v0.1.0.mod":  "module github.com/wsgo/wsgo\n",
	}
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(at, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(proxy))
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	want := "module example.com/other does not require github.com/wsgo/wsgo; add it with: go get github.com/wsgo/wsgo"
	if _, err := Find(module(t)); err == nil || err.Error() != want {
		t.Errorf("Find: %v\nwant %s", err, want)
	}
}

// userModule writes a module that requires this checkout of wsgo, with an
// app package, a package that does not use the contract, and a main.
func userModule(t *testing.T) *Module {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	t.Setenv("GOPROXY", "off") // nothing from the network: the cache and the checkout
	t.Setenv("GOFLAGS", "-mod=mod")
	repo, _ := filepath.Abs("../..")
	dir := testkit.Tree(t, map[string]string{
		"go.mod":           "module example.com/site\n\ngo 1.25\n\nrequire github.com/wsgo/wsgo v0.0.0\n\nreplace github.com/wsgo/wsgo => " + repo + "\n",
		"greet/greet.go":   "package greet\n\nimport \"github.com/wsgo/wsgo/wsgi\"\n\nfunc init() { wsgi.Register(\"greet\", wsgi.AppFunc(nil)) }\n",
		"util/util.go":     "package util\n\nfunc Two() int { return 2 }\n",
		"cmd/tool/main.go": "package main\n\nimport _ \"github.com/wsgo/wsgo/wsgi\"\n\nfunc main() {}\n",
	})
	m, err := Find(dir)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	return m
}

// TestFindAppsFindsOnlyAppPackages: the packages that import the contract,
// main packages left out; one added later is found again.
func TestFindAppsFindsOnlyAppPackages(t *testing.T) {
	m := userModule(t)
	if !slices.Equal(m.Apps, []string{"example.com/site/greet"}) {
		t.Fatalf("Apps = %v, want only ./greet", m.Apps)
	}
	testkit.WriteFile(t, filepath.Join(m.Dir, "blog", "blog.go"), "package blog\n\nimport _ \"github.com/wsgo/wsgo/wsgi\"\n")
	if err := m.FindApps(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Apps, []string{"example.com/site/blog", "example.com/site/greet"}) {
		t.Errorf("after adding ./blog, Apps = %v", m.Apps)
	}
}

// TestGenerateWritesNothingIntoTheModule: the main package and its overlay
// are written into the builder's directory, the overlay places the main in
// the module as ./.wsgo/KIND, and go.mod and go.sum are copied, not edited.
func TestGenerateWritesNothingIntoTheModule(t *testing.T) {
	m := userModule(t)
	before := listFiles(t, m.Dir)
	gomod, _ := os.ReadFile(filepath.Join(m.Dir, "go.mod"))
	dir := t.TempDir()
	for kind, entry := range map[Kind]string{Dev: `"github.com/wsgo/wsgo/cmd"`, Production: `"github.com/wsgo/wsgo/serve"`} {
		pkg, flags, err := m.Generate(dir, kind)
		if err != nil {
			t.Fatalf("Generate(%s): %v", kind, err)
		}
		if pkg != "./.wsgo/"+string(kind) {
			t.Errorf("package %q", pkg)
		}
		main, _ := os.ReadFile(filepath.Join(dir, string(kind)+"-main.go"))
		for _, want := range []string{"package main", entry, `_ "example.com/site/greet"`} {
			if !strings.Contains(string(main), want) {
				t.Errorf("%s main lacks %s:\n%s", kind, want, main)
			}
		}
		var overlay struct{ Replace map[string]string }
		data, _ := os.ReadFile(filepath.Join(dir, string(kind)+"-overlay.json"))
		if err := json.Unmarshal(data, &overlay); err != nil {
			t.Fatal(err)
		}
		if got := overlay.Replace[filepath.Join(m.Dir, ".wsgo", string(kind), "main.go")]; got != filepath.Join(dir, string(kind)+"-main.go") {
			t.Errorf("overlay %v", overlay.Replace)
		}
		if !slices.Contains(flags, "-overlay") || !slices.Contains(flags, "-modfile") {
			t.Errorf("flags %v", flags)
		}
	}
	if copied, _ := os.ReadFile(filepath.Join(dir, "go.mod")); !strings.HasPrefix(string(copied), "module example.com/site") {
		t.Errorf("go.mod copy:\n%s", copied)
	}
	if after := listFiles(t, m.Dir); !slices.Equal(before, after) {
		t.Errorf("the module's tree changed:\nbefore %v\nafter  %v", before, after)
	}
	if now, _ := os.ReadFile(filepath.Join(m.Dir, "go.mod")); string(now) != string(gomod) {
		t.Errorf("the module's go.mod changed:\n%s", now)
	}
}

func listFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			files = append(files, p)
		}
		return nil
	})
	return files
}
