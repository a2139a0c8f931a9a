package cmd

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/wsgo/wsgo/internal/testkit"
	"github.com/wsgo/wsgo/reload"
)

// TestMountedPythonNamesThePrograms: with a Python app mounted beside Go
// ones, a save of a .py file makes a program of another identity, so that
// the supervisor starts it rather than saying "No change"; the Go build's
// own identity still counts.
func TestMountedPythonNamesThePrograms(t *testing.T) {
	root := testkit.Tree(t, map[string]string{"legacy.py": "V = 1\n", "main.go": "package main\n"})
	o := serveOptions{mounts: []string{"/legacy=legacy.py:app"}}
	goID := "go-build-1"
	b := o.withMounted(reload.BuilderFunc(func(context.Context) (*reload.Program, error) {
		return &reload.Program{Argv: []string{"server"}, ID: goID}, nil
	}), root, nil)
	id := func() string {
		p, err := b.Build(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	first := id()
	if id() != first {
		t.Fatal("the same sources named two programs differently")
	}
	testkit.WriteFile(t, filepath.Join(root, "legacy.py"), "V = 2\n")
	saved := id()
	if saved == first {
		t.Error("a save of the mounted Python app left the program's identity as it was")
	}
	goID = "go-build-2"
	if id() == saved {
		t.Error("a new Go build left the program's identity as it was")
	}
	if !goAndPythonRules.Source("legacy.py") || !goAndPythonRules.Source("main.go") || goAndPythonRules.Source("notes.txt") {
		t.Error("the rules of a Go server with Python apps do not count both languages' sources")
	}
}
