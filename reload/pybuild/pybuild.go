// Package pybuild is what the supervisor knows of Python sources: which
// files are source and which assets (Rules, for a watcher), and a Builder
// that builds nothing, since an interpreter reads the source as it starts,
// but names the program by the sources' contents, so that a save that
// changes nothing starts nothing.
package pybuild

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsgo/wsgo/reload"
	"github.com/wsgo/wsgo/reload/watch"
)

// skippedDirs hold no source of the project's own: bytecode caches and
// installed packages.
var skippedDirs = map[string]bool{
	"__pycache__": true, "site-packages": true, "dist-packages": true, "node_modules": true,
}

// Rules are what counts as Python source for a watcher: .py files, never
// what is below a virtual environment, site-packages or __pycache__; and
// the assets a web app reads at run time (templates, static files): their
// change reloads the pages, not the app.
var Rules = watch.Rules{
	Source:  isSource,
	SkipDir: skipDir,
	Assets: []string{"*.html", "*.htm", "*.jinja", "*.jinja2", "*.j2", "*.txt", "*.css", "*.js",
		"*.png", "*.jpg", "*.jpeg", "*.gif", "*.svg", "*.ico", "*.webp"},
}

func isSource(name string) bool { return strings.HasSuffix(name, ".py") }

// skipDir leaves out the directories that hold no source of the
// project's own: caches, installed packages, and virtual environments,
// whatever their name (they hold a pyvenv.cfg).
func skipDir(dir string) bool {
	name := filepath.Base(dir)
	if skippedDirs[name] || strings.HasSuffix(name, ".egg-info") {
		return true
	}
	_, err := os.Stat(filepath.Join(dir, "pyvenv.cfg"))
	return err == nil
}

// Builder makes the program that serves a Python app: the same command,
// started anew, which imports the app's current source.
type Builder struct {
	Root string   // the project directory, whose .py files are the source
	Argv []string // the app server's command line
	Env  []string // and what it adds to the environment
}

// Build returns the app server's program, named by a digest of the
// project's Python source.
func (b *Builder) Build(ctx context.Context) (*reload.Program, error) {
	id, err := Digest(ctx, b.Root)
	if err != nil {
		return nil, err
	}
	return &reload.Program{Argv: b.Argv, Env: b.Env, ID: id}, nil
}

// Digest is a digest of the .py files below root, their names and their
// contents, as Rules sees them: two equal digests, the same source. A root
// reached through a symbolic link is read where it leads.
func Digest(ctx context.Context, root string) (string, error) {
	if real, err := filepath.EvalSymlinks(root); err == nil {
		root = real
	}
	h := sha256.New()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil // unreadable: whatever it holds cannot be imported either
		case ctx.Err() != nil:
			return ctx.Err()
		case d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || skipDir(path)):
			return filepath.SkipDir
		case d.IsDir() || !isSource(d.Name()):
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return nil
		}
		defer f.Close()
		rel, _ := filepath.Rel(root, path)
		io.WriteString(h, rel+"\x00")
		io.Copy(h, f)
		h.Write([]byte{0})
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
