package gobuild

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/testkit"
	"github.com/wsgo/wsgo/reload/watch"
)

func TestFindSource(t *testing.T) {
	root := testkit.Tree(t, map[string]string{
		"go.mod":          "module example.com/app\n\ngo 1.25\n",
		"cmd/app/main.go": "package main",
		"inner/go.mod":    "module example.com/inner\n",
		"inner/x/x.go":    "package x",
	})
	tests := []struct {
		dir, pkg, module string
		want             Source
		err              bool
	}{
		{root, "example.com/app", "example.com/app", Source{root, "example.com/app", "."}, false},
		{filepath.Join(root, "cmd/app"), "example.com/app/cmd/app", "example.com/app", Source{root, "example.com/app", "./cmd/app"}, false},
		// A nested module is skipped on the way up to the right one.
		{filepath.Join(root, "inner/x"), "example.com/app", "example.com/app", Source{root, "example.com/app", "."}, false},
		{t.TempDir(), "example.com/app", "example.com/app", Source{}, true},
		{root, "command-line-arguments", "", Source{}, true},
	}
	for _, tt := range tests {
		got, err := findSource(tt.dir, tt.pkg, tt.module)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("findSource(%s, %s) = %+v, %v; want %+v (error %v)", tt.dir, tt.pkg, got, err, tt.want, tt.err)
		}
		if tt.err && tt.module != "" && !errors.Is(err, errNoSource) {
			t.Errorf("error %v does not say the source is missing", err)
		}
	}
}

func TestEmbeddedFilesCount(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	root := testkit.Tree(t, map[string]string{
		"go.mod":            "module example.com/e\n\ngo 1.25\n",
		"main.go":           "package main\n\nimport _ \"embed\"\n\n//go:embed static/page.html\nvar page string\n\nfunc main() { println(page) }\n",
		"static/page.html":  "<p>hi",
		"static/other.html": "<p>not embedded",
	})
	w, err := watch.New(root, watch.Options{Rules: Rules, Delay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetBuildFiles(Source{Root: root, Module: "example.com/e", Package: "."}.Embeds(context.Background()))
	// Not embedded: an asset, which reloads pages and builds nothing.
	os.WriteFile(filepath.Join(root, "static/other.html"), []byte("<p>edited"), 0o644)
	if c := testkit.Next(t, w.Changes, w.Errors); len(c.Paths) != 0 || !slices.Equal(c.Assets, []string{"static/other.html"}) {
		t.Errorf("edit of a file not embedded: %+v, want an asset", c)
	}
	os.WriteFile(filepath.Join(root, "static/page.html"), []byte("<p>edited"), 0o644)
	if c := testkit.Next(t, w.Changes, w.Errors); !slices.Equal(c.Paths, []string{"static/page.html"}) {
		t.Errorf("edit of embedded file: %+v, want a build", c)
	}
}

func TestLocalModules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	parent := t.TempDir()
	testkit.WriteFile(t, filepath.Join(parent, "app/go.mod"), "module example.com/app\n\ngo 1.25\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ../lib\n")
	testkit.WriteFile(t, filepath.Join(parent, "app/main.go"), "package main\n\nimport _ \"example.com/lib\"\n\nfunc main() {}\n")
	testkit.WriteFile(t, filepath.Join(parent, "lib/go.mod"), "module example.com/lib\n\ngo 1.25\n")
	testkit.WriteFile(t, filepath.Join(parent, "lib/lib.go"), "package lib\n")
	testkit.WriteFile(t, filepath.Join(parent, "tool/go.mod"), "module example.com/tool\n\ngo 1.25\n")
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	got, err := Source{Root: filepath.Join(parent, "app")}.LocalModules()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(parent, "lib")}; !slices.Equal(got, want) {
		t.Errorf("replace: LocalModules() = %v, want %v", got, want)
	}

	testkit.WriteFile(t, filepath.Join(parent, "go.work"), "go 1.25\n\nuse (\n\t./app\n\t./lib\n\t./tool\n)\n")
	t.Setenv("GOWORK", "")
	t.Setenv("GOFLAGS", "")
	got, err = Source{Root: filepath.Join(parent, "app")}.LocalModules()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{filepath.Join(parent, "lib"), filepath.Join(parent, "tool")}; !slices.Equal(got, want) {
		t.Errorf("workspace: LocalModules() = %v, want %v", got, want)
	}
}
