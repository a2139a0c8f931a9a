package watch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/wsgo/wsgo/internal/testkit"
)

// TestWatchFileRemovedAndRenamed: a file removed, and one renamed, are
// changes under both names.
func TestWatchFileRemovedAndRenamed(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{"main.go": "package main", "a.go": "package main", "b.go": "package main"})
		w := startWatch(t, root, Options{Poll: poll})
		if err := os.Remove(filepath.Join(root, "a.go")); err != nil {
			t.Fatal(err)
		}
		if c := next(t, w); !slices.Equal(c.Paths, []string{"a.go"}) {
			t.Errorf("removing a.go gave %v", c.Paths)
		}
		if err := os.Rename(filepath.Join(root, "b.go"), filepath.Join(root, "c.go")); err != nil {
			t.Fatal(err)
		}
		var paths []string
		for len(paths) < 2 {
			paths = append(paths, next(t, w).Paths...)
		}
		slices.Sort(paths)
		if !slices.Equal(paths, []string{"b.go", "c.go"}) {
			t.Errorf("renaming b.go to c.go gave %v", paths)
		}
	})
}

// TestPollSeesAFileReplacedInPlace: an editor that writes a new file and
// renames it over the old one may leave the size and the modification time
// as they were (a one-letter fix, a coarse clock); the inode still tells.
func TestPollSeesAFileReplacedInPlace(t *testing.T) {
	root := testkit.Tree(t, map[string]string{"main.go": "package main // a"})
	w := startWatch(t, root, Options{Poll: 20 * time.Millisecond})
	p := filepath.Join(root, "main.go")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	testkit.WriteFile(t, p+".new", "package main // b")
	if err := os.Chtimes(p+".new", fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".new", p); err != nil {
		t.Fatal(err)
	}
	if c := next(t, w); !slices.Equal(c.Paths, []string{"main.go"}) {
		t.Errorf("replacing main.go gave %v", c.Paths)
	}
}

// TestPollingTurnsOnByItselfWhenInotifyRunsOut: past the watch limit, the
// watcher polls rather than failing, and says how to have events back.
func TestPollingTurnsOnByItselfWhenInotifyRunsOut(t *testing.T) {
	root := testkit.Tree(t, map[string]string{"main.go": "package main", "go.mod": "module x\n"})
	lib := testkit.Tree(t, map[string]string{"lib.go": "package lib", "pkg/a.go": "package pkg"})
	w, err := watchOneDirectory(root, lib) // the root's one directory, then lib fails
	if err != nil {
		t.Fatalf("out of inotify watches: %v; want polling", err)
	}
	defer w.Close()
	every, why := w.Polling()
	if every != DefaultPoll || !strings.Contains(why, "max_user_watches") {
		t.Fatalf("Polling() = %v, %q; want every %v, naming the sysctl", every, why, DefaultPoll)
	}
	if dirs, files := w.Stats(); dirs != 3 || files != 4 {
		t.Errorf("Stats() = %d directories, %d files; want 3 and 4", dirs, files)
	}
	testkit.WriteFile(t, filepath.Join(lib, "pkg/a.go"), "package pkg // edited")
	if c := next(t, w); len(c.Paths) != 1 || !strings.HasSuffix(c.Paths[0], "/pkg/a.go") {
		t.Errorf("edit while polling: %v", c.Paths)
	}
}

// TestPollingTurnsOnWhenInotifyRunsOutMidRun: a directory made after the
// start that cannot be watched turns polling on; the watcher says so, asks
// for a rescan (what the directory held is not known), and goes on
// reporting edits.
func TestPollingTurnsOnWhenInotifyRunsOutMidRun(t *testing.T) {
	root := testkit.Tree(t, map[string]string{"main.go": "package main"})
	w, err := watchOneDirectory(root)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if every, _ := w.Polling(); every != 0 {
		t.Fatal("polls from the start; want events until the limit")
	}
	testkit.WriteFile(t, filepath.Join(root, "pkg/a.go"), "package pkg")
	select {
	case c := <-w.Changes:
		if !c.Rescan {
			t.Errorf("first batch after the limit: %+v; want a rescan", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no batch after the limit was reached")
	}
	select { // sent before the batch
	case err := <-w.Errors:
		if !strings.Contains(err.Error(), "polling every 1s from now on") || !strings.Contains(err.Error(), "max_user_watches") {
			t.Errorf("the watcher said %q", err)
		}
	default:
		t.Error("the watcher did not say it polls from now on")
	}
	testkit.WriteFile(t, filepath.Join(root, "pkg/a.go"), "package pkg // edited")
	if c := next(t, w); !slices.Equal(c.Paths, []string{"pkg/a.go"}) {
		t.Errorf("edit while polling: %v", c.Paths)
	}
}

// TestPollSaysOnceThatTheRootIsGone: a look that cannot read the root says
// so once, not at every look while it lasts.
func TestPollSaysOnceThatTheRootIsGone(t *testing.T) {
	root := testkit.Tree(t, map[string]string{"main.go": "package main"})
	w := startWatch(t, root, Options{Poll: 20 * time.Millisecond})
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-w.Errors:
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), root) {
			t.Errorf("error %q; want the root named, and not found", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not say the root is gone")
	}
	deadline := time.After(10 * time.Second)
	for n := w.poll.looks.Load() + 5; w.poll.looks.Load() < n; {
		select {
		case err := <-w.Errors:
			t.Fatalf("said again: %v", err)
		case <-deadline:
			t.Fatal("the watcher stopped looking")
		case <-time.After(10 * time.Millisecond): // until five more looks are taken
		}
	}
}

// watchOneDirectory watches root and modules as if the inotify limit
// allowed one watch.
func watchOneDirectory(root string, modules ...string) (*Watcher, error) {
	added := 0
	return New(root, Options{Rules: testRules, Delay: 50 * time.Millisecond, Modules: modules, addWatch: func(fw *fsnotify.Watcher, dir string) error {
		if added++; added > 1 {
			return os.NewSyscallError("inotify_add_watch", errNoSpace)
		}
		return fw.Add(dir)
	}})
}
