package watch

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/wsgo/wsgo/reload"

	"github.com/wsgo/wsgo/internal/testkit"
)

func startWatch(t *testing.T, root string, o Options) *Watcher {
	t.Helper()
	if o.Delay == 0 {
		o.Delay = 100 * time.Millisecond
	}
	if o.Rules.Source == nil {
		o.Rules = testRules
	}
	w, err := New(root, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if every, _ := w.Polling(); every != o.Poll {
		t.Fatalf("the watcher polls every %v; want %v", every, o.Poll)
	}
	return w
}

// next waits, a bounded time, for the next batch.
func next(t *testing.T, w *Watcher) reload.Change {
	t.Helper()
	return testkit.Next(t, w.Changes, w.Errors)
}

// none checks that no batch arrives within a few quiet periods, after a
// marker edit that must arrive alone proves the watcher was listening.
func none(t *testing.T, w *Watcher, root string) {
	t.Helper()
	marker := filepath.Join(root, "zz_marker.go")
	testkit.WriteFile(t, marker, "package x // "+time.Now().String())
	if c := next(t, w); !slices.Equal(c.Paths, []string{"zz_marker.go"}) {
		t.Fatalf("batch %v; want only the marker: an ignored change counted", c.Paths)
	}
}

func TestWatchCountsWhatTheBuildReads(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{"go.mod": "module x\n", "main.go": "package main\n", "pkg/a.go": "package pkg\n"})
		w := startWatch(t, root, Options{Poll: poll})
		for _, name := range []string{"main.go", "pkg/a.go", "go.mod", "go.sum", "go.work", "pkg/new.go"} {
			testkit.WriteFile(t, filepath.Join(root, name), "// edit")
			if c := next(t, w); !slices.Equal(c.Paths, []string{name}) {
				t.Errorf("edit of %s gave %v", name, c.Paths)
			}
		}
	})
}

func TestWatchIgnores(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{
			"go.mod": "module x\n", "main.go": "package main\n",
			".git/HEAD": "ref", ".hidden/a.go": "", "node_modules/m/a.go": "", "tmp/a.go": "",
			"testdata/a.go": "", "gen/a.go": "",
		})
		w := startWatch(t, root, Options{Exclude: []string{"gen"}, Poll: poll})
		for _, p := range []string{
			".git/HEAD", ".git/index", ".hidden/a.go", "node_modules/m/a.go", "tmp/a.go", "testdata/a.go", "gen/a.go",
			"4913", "main.go~", ".main.go.swp", ".main.go.swx", "#main.go#", "main_test.go", "README.md", "notes.txt",
		} {
			testkit.WriteFile(t, filepath.Join(root, p), "x")
		}
		none(t, w, root)
	})
}

func TestWatchChmodAloneDoesNotCount(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{"main.go": "package main\n"})
		w := startWatch(t, root, Options{Poll: poll})
		if err := os.Chmod(filepath.Join(root, "main.go"), 0o600); err != nil {
			t.Fatal(err)
		}
		none(t, w, root)
	})
}

func TestWatchGitignore(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		if _, err := exec.LookPath("git"); err != nil {
			t.Skip("git is not installed")
		}
		root := testkit.Tree(t, map[string]string{
			"go.mod":         "module x\n",
			".gitignore":     "build/\n*.gen.go\n!keep.gen.go\n",
			"sub/.gitignore": "local.go\n",
			"build/a.go":     "",
		})
		if out, err := exec.Command("git", "-C", root, "init", "-q").CombinedOutput(); err != nil {
			t.Fatalf("git init: %v %s", err, out)
		}
		w := startWatch(t, root, Options{Poll: poll})
		if !w.GitIgnore() {
			t.Fatal("gitignore not applied in a git work tree")
		}
		if dirs, _ := w.Stats(); dirs != 2 {
			t.Errorf("Stats() = %d directories; want 2, the ignored build/ left out", dirs)
		}
		// Ignored: a directory-only pattern, a glob, a nested file's rule.
		for _, p := range []string{"build/a.go", "build/new/b.go", "x.gen.go", "sub/local.go"} {
			testkit.WriteFile(t, filepath.Join(root, p), "x")
		}
		none(t, w, root)
		// Negation brings a file back.
		testkit.WriteFile(t, filepath.Join(root, "keep.gen.go"), "x")
		if c := next(t, w); !slices.Equal(c.Paths, []string{"keep.gen.go"}) {
			t.Errorf("negated pattern: %v", c.Paths)
		}
	})
}

func TestWatchNewDirectory(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{"main.go": "package main\n"})
		w := startWatch(t, root, Options{Poll: poll})
		testkit.WriteFile(t, filepath.Join(root, "a/b/c.go"), "package b")
		c := next(t, w)
		if !slices.Contains(c.Paths, "a/b/c.go") {
			t.Fatalf("new nested file: %v", c.Paths)
		}
		// The new directories are watched from now on.
		testkit.WriteFile(t, filepath.Join(root, "a/b/d.go"), "package b")
		if c := next(t, w); !slices.Equal(c.Paths, []string{"a/b/d.go"}) {
			t.Errorf("file in new directory: %v", c.Paths)
		}
	})
}

func TestWatchRenamedDirectory(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{"old/a.go": "package old"})
		w := startWatch(t, root, Options{Poll: poll})
		if err := os.Rename(filepath.Join(root, "old"), filepath.Join(root, "new")); err != nil {
			t.Fatal(err)
		}
		c := next(t, w)
		if !slices.Contains(c.Paths, "new/a.go") {
			t.Errorf("rename: %v; want the file under its new name", c.Paths)
		}
		testkit.WriteFile(t, filepath.Join(root, "new/a.go"), "package old // edited")
		if c := next(t, w); !slices.Equal(c.Paths, []string{"new/a.go"}) {
			t.Errorf("edit under the new name reported as %v", c.Paths)
		}
		for _, p := range watched(w) {
			if p == filepath.Join(root, "old") {
				t.Error("still watching the old name")
			}
		}
	})
}

// TestWatchVimSave replays vim's atomic save: probe file, swap file, rename
// the original away, write the new one, remove the backup.
func TestWatchVimSave(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{"main.go": "package main\n"})
		w := startWatch(t, root, Options{Poll: poll})
		p := filepath.Join(root, "main.go")
		testkit.WriteFile(t, filepath.Join(root, "4913"), "")
		os.Remove(filepath.Join(root, "4913"))
		testkit.WriteFile(t, filepath.Join(root, ".main.go.swp"), "swap")
		if err := os.Rename(p, p+"~"); err != nil {
			t.Fatal(err)
		}
		testkit.WriteFile(t, p, "package main // saved\n")
		os.Remove(p + "~")
		os.Remove(filepath.Join(root, ".main.go.swp"))
		if c := next(t, w); !slices.Equal(c.Paths, []string{"main.go"}) {
			t.Errorf("vim save gave %v; want main.go once", c.Paths)
		}
		none(t, w, root)
	})
}

func TestWatchBurstIsOneBatch(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{"main.go": "package main\n"})
		w := startWatch(t, root, Options{Delay: time.Second, Poll: poll}) // a wide quiet period: a loaded machine may pause mid-burst
		for i := range 1000 {
			testkit.WriteFile(t, filepath.Join(root, fmt.Sprintf("pkg%d/f%d.go", i%10, i)), "package p")
		}
		c := next(t, w)
		if len(c.Paths) != 1000 {
			t.Errorf("first batch has %d paths, want all 1000", len(c.Paths))
		}
		none(t, w, root)
	})
}

func TestWatchExtraPaths(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{"main.go": "", "templates/index.html": "<p>"})
		w := startWatch(t, root, Options{Watch: []string{filepath.Join(root, "templates")}, Poll: poll})
		testkit.WriteFile(t, filepath.Join(root, "templates/index.html"), "<p>edited")
		if c := next(t, w); !slices.Equal(c.Paths, []string{"templates/index.html"}) {
			t.Errorf("--watch path: %v", c.Paths)
		}
		w.SetBuildFiles([]string{filepath.Join(root, "static.txt")})
		testkit.WriteFile(t, filepath.Join(root, "static.txt"), "embedded")
		if c := next(t, w); !slices.Equal(c.Paths, []string{"static.txt"}) {
			t.Errorf("embedded file: %v", c.Paths)
		}
	})
}

func TestWatchOverflowRescans(t *testing.T) {
	root := testkit.Tree(t, map[string]string{"main.go": ""})
	w, err := newWatcher(root, Options{Rules: testRules, Delay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	errs := make(chan error, 1)
	go w.loop(w.fs.Events, errs)
	// A directory made while events were being lost is watched by the rescan.
	if err := os.MkdirAll(filepath.Join(root, "late"), 0o755); err != nil {
		t.Fatal(err)
	}
	errs <- fsnotify.ErrEventOverflow
	c := next(t, w)
	if !c.Rescan {
		t.Fatalf("overflow gave %+v; want a rescan", c)
	}
	if !slices.Contains(w.fs.WatchList(), filepath.Join(root, "late")) {
		t.Error("rescan did not watch the new directory")
	}
}

func TestWatchErrorNamesTheSysctl(t *testing.T) {
	err := watchError("/src", fmt.Errorf("add: %w", os.NewSyscallError("inotify_add_watch", errNoSpace)))
	if got := err.Error(); !contains(got, "fs.inotify.max_user_watches") || contains(got, "no space left") {
		t.Errorf("message %q", got)
	}
}

// TestWatchDirectoryMovedAway: moving a package out of the tree removes its
// files from the build, though no event names them.
func TestWatchDirectoryMovedAway(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{"main.go": "", "pkg/a.go": "package pkg", "pkg/sub/b.go": "package sub"})
		w := startWatch(t, root, Options{Poll: poll})
		if err := os.Rename(filepath.Join(root, "pkg"), filepath.Join(t.TempDir(), "pkg")); err != nil {
			t.Fatal(err)
		}
		if c := next(t, w); !slices.Equal(c.Paths, []string{"pkg"}) {
			t.Errorf("moving pkg away gave %v; want pkg alone, for all it held", c.Paths)
		}
		for _, p := range watched(w) {
			if strings.HasPrefix(p, filepath.Join(root, "pkg")) {
				t.Errorf("still watching %s", p)
			}
		}
	})
}

// TestWatchOtherModules: a module the build reads from another directory (a
// replace target, a workspace module) is watched with the same rules, and
// its changes are named from the root.
func TestWatchOtherModules(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		parent := t.TempDir()
		root := filepath.Join(parent, "app")
		lib := filepath.Join(parent, "lib")
		testkit.WriteFile(t, filepath.Join(root, "go.mod"), "module example.com/app\n")
		testkit.WriteFile(t, filepath.Join(root, "main.go"), "package main")
		testkit.WriteFile(t, filepath.Join(lib, "go.mod"), "module example.com/lib\n")
		testkit.WriteFile(t, filepath.Join(lib, "lib.go"), "package lib")
		testkit.WriteFile(t, filepath.Join(lib, "node_modules", "x.go"), "package x")
		w := startWatch(t, root, Options{Modules: []string{lib, root}, Poll: poll})
		if got := w.Trees(); !slices.Equal(got, []string{root, lib}) {
			t.Errorf("Trees() = %v", got)
		}
		if dirs, files := w.Stats(); dirs != 2 || files != 4 {
			t.Errorf("Stats() = %d directories, %d files; want 2 and 4", dirs, files)
		}
		testkit.WriteFile(t, filepath.Join(lib, "node_modules", "x.go"), "package x // ignored")
		testkit.WriteFile(t, filepath.Join(lib, "lib.go"), "package lib // edited")
		if c := next(t, w); !slices.Equal(c.Paths, []string{"../lib/lib.go"}) {
			t.Errorf("edit in the other module: %v", c.Paths)
		}
	})
}

// TestWatchAssets: templates, stylesheets and the like are told apart from
// what the build reads; an embedded one is the build's; --assets replaces
// the patterns.
func TestWatchAssets(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{
			"go.mod":              "module example.com/a\n",
			"main.go":             "package main",
			"templates/page.html": "<p>",
			"static/site.css":     "p {}",
			"static/embedded.css": "p {}",
			"notes.txt":           "x",
		})
		w := startWatch(t, root, Options{Poll: poll})
		w.SetBuildFiles([]string{filepath.Join(root, "static/embedded.css")})
		testkit.WriteFile(t, filepath.Join(root, "templates/page.html"), "<p>edited")
		testkit.WriteFile(t, filepath.Join(root, "static/site.css"), "p { color: red }")
		testkit.WriteFile(t, filepath.Join(root, "notes.txt"), "not an asset")
		// The edits may come in more than one batch on a busy machine.
		var assets, paths []string
		for i := 0; i < 3 && len(assets) < 2; i++ {
			c := next(t, w)
			assets, paths = append(assets, c.Assets...), append(paths, c.Paths...)
		}
		slices.Sort(assets)
		if len(paths) != 0 || !slices.Equal(assets, []string{"static/site.css", "templates/page.html"}) {
			t.Errorf("assets %v, build paths %v", assets, paths)
		}
		testkit.WriteFile(t, filepath.Join(root, "static/embedded.css"), "p { color: blue }")
		if c := next(t, w); !slices.Equal(c.Paths, []string{"static/embedded.css"}) || len(c.Assets) != 0 {
			t.Errorf("an embedded asset: %+v", c)
		}

		w2 := startWatch(t, root, Options{Assets: []string{"*.txt"}, Poll: poll})
		testkit.WriteFile(t, filepath.Join(root, "notes.txt"), "an asset now")
		testkit.WriteFile(t, filepath.Join(root, "static/site.css"), "p { color: green }")
		if c := next(t, w2); !slices.Equal(c.Assets, []string{"notes.txt"}) {
			t.Errorf("--assets *.txt: %+v", c)
		}
	})
}

// both runs test with the kernel's events and with polling: the two must
// report the same changes in the same way.
func both(t *testing.T, test func(t *testing.T, poll time.Duration)) {
	t.Run("events", func(t *testing.T) { test(t, 0) })
	t.Run("poll", func(t *testing.T) { test(t, 20*time.Millisecond) })
}

// watched lists the directories the kernel watches for w; none when it polls.
func watched(w *Watcher) []string {
	if w.fs == nil {
		return nil
	}
	return w.fs.WatchList()
}

// TestWatchFileTurnsIntoDirectory: a source file replaced by a directory of
// the same name is gone from the build, and so is the directory replaced by
// a file again.
func TestWatchFileTurnsIntoDirectory(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{"main.go": "package main", "sub/w.go": "package sub", "sub/v.go": "package sub"})
		w := startWatch(t, root, Options{Poll: poll})
		p := filepath.Join(root, "sub/w.go")
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if c := next(t, w); !slices.Equal(c.Paths, []string{"sub/w.go"}) {
			t.Errorf("file replaced by a directory gave %v; want sub/w.go", c.Paths)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		testkit.WriteFile(t, p, "package sub // back")
		if c := next(t, w); !slices.Equal(c.Paths, []string{"sub/w.go"}) {
			t.Errorf("directory replaced by a file gave %v; want sub/w.go", c.Paths)
		}
	})
}

// TestWatchSymlinkedRoot: a root, another module and a --watch directory
// reached through symlinks are walked and watched where they lead, and
// their changes are named as the caller named them.
func TestWatchSymlinkedRoot(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		parent := t.TempDir()
		testkit.WriteFile(t, filepath.Join(parent, "mod/go.mod"), "module example.com/app\n")
		testkit.WriteFile(t, filepath.Join(parent, "mod/pkg/a.go"), "package pkg")
		testkit.WriteFile(t, filepath.Join(parent, "lib/lib.go"), "package lib")
		testkit.WriteFile(t, filepath.Join(parent, "tpl/page.html"), "<p>")
		root, lib, tpl := link(t, parent, "mod"), link(t, parent, "lib"), link(t, parent, "tpl")
		w := startWatch(t, root, Options{Modules: []string{lib}, Watch: []string{tpl}, Poll: poll})
		if got := w.Trees(); !slices.Equal(got, []string{root, lib}) {
			t.Errorf("Trees() = %v; want the names given", got)
		}
		if dirs, files := w.Stats(); dirs != 4 || files != 4 {
			t.Errorf("Stats() = %d directories, %d files; want 4 and 4", dirs, files)
		}
		for _, edit := range []struct{ file, want string }{
			{filepath.Join(root, "pkg/a.go"), "pkg/a.go"},
			{filepath.Join(lib, "lib.go"), "../liblink/lib.go"},
			{filepath.Join(tpl, "page.html"), "../tpllink/page.html"},
		} {
			testkit.WriteFile(t, edit.file, "// edited")
			if c := next(t, w); !slices.Equal(c.Paths, []string{edit.want}) {
				t.Errorf("edit of %s gave %v; want %s", edit.file, c.Paths, edit.want)
			}
		}
		testkit.WriteFile(t, filepath.Join(root, "new/b.go"), "package b")
		if c := next(t, w); !slices.Equal(c.Paths, []string{"new/b.go"}) {
			t.Errorf("a new directory gave %v", c.Paths)
		}
		w.SetBuildFiles([]string{filepath.Join(root, "static.txt")})
		testkit.WriteFile(t, filepath.Join(root, "static.txt"), "embedded")
		if c := next(t, w); !slices.Equal(c.Paths, []string{"static.txt"}) {
			t.Errorf("an embedded file named through the symlink gave %v", c.Paths)
		}
	})
}

// link makes parent/<name>link, a symlink to parent/<name>, and returns it.
func link(t *testing.T, parent, name string) string {
	t.Helper()
	l := filepath.Join(parent, name+"link")
	if err := os.Symlink(filepath.Join(parent, name), l); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestWatchExtraFile: a --watch path that is a file counts when written in
// place and when replaced, by a rename or a remove and a create, as editors
// save; its neighbours do not.
func TestWatchExtraFile(t *testing.T) {
	both(t, func(t *testing.T, poll time.Duration) {
		root := testkit.Tree(t, map[string]string{"main.go": "package main"})
		conf := filepath.Join(t.TempDir(), "app.conf")
		testkit.WriteFile(t, conf, "a = 1")
		w := startWatch(t, root, Options{Watch: []string{conf}, Poll: poll})
		want, err := filepath.Rel(root, conf)
		if err != nil {
			t.Fatal(err)
		}
		testkit.WriteFile(t, filepath.Join(filepath.Dir(conf), "other.go"), "package other")
		testkit.WriteFile(t, conf, "a = 2")
		if c := next(t, w); !slices.Equal(c.Paths, []string{want}) {
			t.Errorf("write in place gave %v; want %s alone", c.Paths, want)
		}
		tmp := filepath.Join(filepath.Dir(conf), "app.conf.tmp")
		testkit.WriteFile(t, tmp, "a = 3")
		if err := os.Rename(tmp, conf); err != nil {
			t.Fatal(err)
		}
		if c := next(t, w); !slices.Equal(c.Paths, []string{want}) {
			t.Errorf("replace by rename gave %v; want %s", c.Paths, want)
		}
		testkit.WriteFile(t, conf, "a = 4")
		if c := next(t, w); !slices.Equal(c.Paths, []string{want}) {
			t.Errorf("write after the replace gave %v; want %s", c.Paths, want)
		}
		if err := os.Remove(conf); err != nil {
			t.Fatal(err)
		}
		testkit.WriteFile(t, conf, "a = 5")
		if c := next(t, w); !slices.Equal(c.Paths, []string{want}) {
			t.Errorf("remove and create gave %v; want %s", c.Paths, want)
		}
		none(t, w, root)
	})
}
