package watch

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Rules are a language's answer to "does this change need a build?".
type Rules struct {
	// Source reports whether a file, by its base name, is one the build
	// reads: its change starts a build. Nil: every file.
	Source func(name string) bool
	// SkipDir reports whether nothing below a directory, by its path,
	// is read by the build (node_modules, __pycache__). Hidden directories
	// are always skipped.
	SkipDir func(dir string) bool
	// Assets are patterns (path.Match, on the base name) of files that the
	// program reads at run time, not at build time: a change reloads the
	// pages without a build. Source wins over an asset.
	Assets []string
}

// editorTemp reports the files editors write around a save: vim's 4913
// probe, backups (x~), swap files (.x.swp, .x.swx), emacs' #x# and .#x.
func editorTemp(base string) bool {
	switch {
	case base == "4913", strings.HasSuffix(base, "~"):
		return true
	case strings.HasPrefix(base, "#") && strings.HasSuffix(base, "#"):
		return true
	case strings.HasPrefix(base, ".") && (strings.HasSuffix(base, ".swp") || strings.HasSuffix(base, ".swx") || strings.HasSuffix(base, ".swo")):
		return true
	}
	return false
}

// filter decides which paths below root count as a change to the build.
type filter struct {
	root     string
	watch    []string // extra paths, absolute: anything at or below counts
	excludes []string // patterns matched against the base name and the path from root
	rules    Rules
	git      *gitIgnore

	mu    sync.RWMutex
	build map[string]bool // files the build reads that its rules do not name, absolute
}

// skipDir reports whether a directory is never walked or watched.
func (f *filter) skipDir(abs string) bool {
	if abs == f.root {
		return false
	}
	base := filepath.Base(abs)
	return strings.HasPrefix(base, ".") || (f.rules.SkipDir != nil && f.rules.SkipDir(abs)) || f.excluded(abs)
}

// excluded applies --exclude patterns.
func (f *filter) excluded(abs string) bool {
	rel, err := filepath.Rel(f.root, abs)
	if err != nil {
		return false
	}
	rel = filepath.ToSlash(rel)
	base := path.Base(rel)
	for _, p := range f.excludes {
		if ok, _ := path.Match(p, base); ok {
			return true
		}
		if ok, _ := path.Match(p, rel); ok || rel == p || strings.HasPrefix(rel, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

// counts reports whether a change to the file at abs can change the build.
// It does not consult .gitignore, which is asked once per batch.
func (f *filter) counts(abs string) bool {
	base := filepath.Base(abs)
	if editorTemp(base) || f.excluded(abs) || f.inSkippedDir(abs) {
		return false
	}
	for _, w := range f.watch {
		if abs == w || strings.HasPrefix(abs, w+string(filepath.Separator)) {
			return true
		}
	}
	if strings.HasPrefix(base, ".") {
		return false
	}
	if f.rules.Source == nil || f.rules.Source(base) {
		return true
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.build[abs]
}

// asset reports whether the file at abs is one the program reads at run
// time (a template, a stylesheet): its change reloads pages, no build. Ask
// counts first: a file the build reads is the build's.
func (f *filter) asset(abs string) bool {
	base := filepath.Base(abs)
	if strings.HasPrefix(base, ".") || editorTemp(base) || f.excluded(abs) || f.inSkippedDir(abs) {
		return false
	}
	for _, p := range f.rules.Assets {
		if ok, _ := path.Match(p, base); ok {
			return true
		}
	}
	return false
}

// inSkippedDir reports whether any directory between root and abs is skipped.
func (f *filter) inSkippedDir(abs string) bool {
	for d := filepath.Dir(abs); len(d) > len(f.root); d = filepath.Dir(d) {
		if f.skipDir(d) {
			return true
		}
	}
	return false
}

func (f *filter) setBuildFiles(files []string) {
	m := make(map[string]bool, len(files))
	for _, p := range files {
		m[p] = true
	}
	f.mu.Lock()
	f.build = m
	f.mu.Unlock()
}

// gitIgnore asks git itself which paths .gitignore rules ignore. Git is the
// only complete implementation of those rules (nested files, negation,
// directory-only patterns, core.excludesFile, .git/info/exclude), and every
// Go developer has it; a library would be a second opinion on the same files.
type gitIgnore struct {
	root string
}

// newGitIgnore returns nil when root is not inside a git work tree, or git
// is not installed: then no .gitignore applies.
func newGitIgnore(root string) *gitIgnore {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--is-inside-work-tree").Output()
	if err != nil || strings.TrimSpace(string(out)) != "true" {
		return nil
	}
	return &gitIgnore{root: root}
}

// ignored returns the subset of paths (absolute) that git ignores.
func (g *gitIgnore) ignored(paths []string) map[string]bool {
	if g == nil || len(paths) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "-C", g.root, "check-ignore", "--stdin", "-z")
	var in bytes.Buffer
	for _, p := range paths {
		in.WriteString(p)
		in.WriteByte(0)
	}
	cmd.Stdin = &in
	out, _ := cmd.Output() // exit 1 means none is ignored
	ignored := map[string]bool{}
	for _, p := range bytes.Split(out, []byte{0}) {
		if len(p) == 0 {
			continue
		}
		abs := string(p)
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(g.root, abs)
		}
		ignored[abs] = true
	}
	return ignored
}

func statDir(p string) (bool, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}
