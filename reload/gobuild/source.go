package gobuild

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
)

var errNoSource = errors.New("no source")

// Source is the program to rebuild: a main package inside its module.
type Source struct {
	Root    string // the module's directory, where go build runs
	Module  string // the module path, from go.mod
	Package string // the main package, relative to Root: "." or "./cmd/app"
}

// FindSource locates the running program's own source: its main package
// (from debug.ReadBuildInfo) in the module found at or above dir. It fails
// with a reason a user can act on when the binary was built elsewhere, or
// when there is no go command to rebuild it with.
func FindSource(dir string) (Source, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return Source{}, errors.New("the go command is not on PATH, so nothing can be rebuilt")
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return Source{}, fmt.Errorf("this binary carries no build information")
	}
	return findSource(dir, info.Path, info.Main.Path)
}

func findSource(dir, mainPkg, module string) (Source, error) {
	if module == "" || mainPkg == "command-line-arguments" || !strings.HasPrefix(mainPkg, module) {
		return Source{}, fmt.Errorf("this binary was not built from a module's main package (%q)", mainPkg)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if path, ok := ModulePath(filepath.Join(d, "go.mod")); ok && path == module {
			rel := strings.TrimPrefix(mainPkg, module)
			return Source{Root: d, Module: module, Package: "." + rel}, nil
		}
		if filepath.Dir(d) == d {
			return Source{}, fmt.Errorf("%w: module %s is not at or above %s; run wsgo from inside it", errNoSource, module, dir)
		}
	}
}

// ModulePath reads the module path of the go.mod file gomod.
func ModulePath(gomod string) (string, bool) {
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", false
	}
	path := modfile.ModulePath(data)
	return path, path != ""
}

// Embeds lists the files, as absolute paths, that //go:embed directives in
// the main module's packages pull into the build. It returns nil when the
// go command cannot tell (the build will say what is wrong) or when ctx is
// done first: the go list is then interrupted and waited for.
func (s Source) Embeds(ctx context.Context) []string {
	cmd := exec.CommandContext(ctx, "go", "list", "-e", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{$d := .Dir}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}`,
		s.Package)
	cmd.Dir = s.Root
	interruptible(cmd)
	cmd.WaitDelay = 5 * time.Second // then it is killed
	out, err := cmd.Output()
	if cmd.Process != nil {
		killGroup(cmd.Process.Pid) // anything it left behind
	}
	if err != nil || ctx.Err() != nil {
		return nil
	}
	return strings.Fields(string(out))
}

// LocalModules lists the directories of the other modules the build reads
// from disk: replace targets that are directories, and the other modules of
// a go.work workspace. Their edits change the program as the module's own do.
func (s Source) LocalModules() ([]string, error) {
	cmd := exec.Command("go", "list", "-m", "-e", "-json", "all")
	cmd.Dir = s.Root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("reload: go list -m all: %s", strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("reload: go list -m all: %w", err)
	}
	type module struct {
		Main    bool
		Dir     string
		Replace *module
		Version string
	}
	var dirs []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var m module
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("reload: go list -m all: %w", err)
		}
		dir := ""
		switch {
		case m.Main:
			dir = m.Dir // a workspace's modules are all main modules
		case m.Replace != nil && m.Replace.Version == "":
			dir = m.Replace.Dir // replaced by a directory, not by another version
		}
		if dir != "" && dir != s.Root && !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	return dirs, nil
}

// ModuleRoot returns the directory of the go.mod at or above dir, an
// absolute path when dir is, if there is one.
func ModuleRoot(dir string) (string, bool) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, true
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}
