package reload

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestFindSource(t *testing.T) {
	root := tree(t, map[string]string{
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
	root := tree(t, map[string]string{
		"go.mod":            "module example.com/e\n\ngo 1.25\n",
		"main.go":           "package main\n\nimport _ \"embed\"\n\n//go:embed static/page.html\nvar page string\n\nfunc main() { println(page) }\n",
		"static/page.html":  "<p>hi",
		"static/other.html": "<p>not embedded",
	})
	w := startWatch(t, root, WatchOptions{})
	w.SetEmbeds(Source{Root: root, Module: "example.com/e", Package: "."}.Embeds())
	page := filepath.Join(root, "static/page.html")
	if !w.filters[0].counts(page) {
		t.Fatalf("embedded %s does not count; embeds: %v", page, w.filters[0].embeds)
	}
	if w.filters[0].counts(filepath.Join(root, "static/other.html")) {
		t.Error("a file that is not embedded counts")
	}
	os.WriteFile(page, []byte("<p>edited"), 0o644)
	if c := next(t, w); !slices.Equal(c.Paths, []string{"static/page.html"}) {
		t.Errorf("edit of embedded file: %v", c.Paths)
	}
}

func TestLocalModules(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	parent := t.TempDir()
	write(t, filepath.Join(parent, "app/go.mod"), "module example.com/app\n\ngo 1.25\n\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => ../lib\n")
	write(t, filepath.Join(parent, "app/main.go"), "package main\n\nimport _ \"example.com/lib\"\n\nfunc main() {}\n")
	write(t, filepath.Join(parent, "lib/go.mod"), "module example.com/lib\n\ngo 1.25\n")
	write(t, filepath.Join(parent, "lib/lib.go"), "package lib\n")
	write(t, filepath.Join(parent, "tool/go.mod"), "module example.com/tool\n\ngo 1.25\n")
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	got, err := Source{Root: filepath.Join(parent, "app")}.LocalModules()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(parent, "lib")}; !slices.Equal(got, want) {
		t.Errorf("replace: LocalModules() = %v, want %v", got, want)
	}

	write(t, filepath.Join(parent, "go.work"), "go 1.25\n\nuse (\n\t./app\n\t./lib\n\t./tool\n)\n")
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
