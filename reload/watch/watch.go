// Package watch turns saves into reload.Changes: it watches directory
// trees recursively (the kernel's events, or polling where a file system
// reports none), leaves out what editors, git and tools write, debounces,
// and sorts what changed into source, which needs a build, and assets,
// which the program reads at run time. What is source and what is an asset
// are a language's rules, which a builder gives.
package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/wsgo/wsgo/reload"
)

// Watcher reports changes to the files a build reads below a root, and
// below the other trees the build reads from disk (a Go module's replaced
// and workspace modules):
// recursively, debounced, and without what editors, git and tools write.
type Watcher struct {
	// Changes delivers one batch per quiet period.
	Changes <-chan reload.Change
	// Errors delivers failures that do not stop the watcher.
	Errors <-chan error

	root    string // resolved: symlinks followed
	named   string // the root as the caller named it, which reload.Change.Paths start from
	aliases []alias
	delay   time.Duration
	filters []*filter         // one per tree: the root's first, then each module's
	fs      *fsnotify.Watcher // nil when polling from the start
	poll    *poller           // nil when the kernel's events are used
	add     func(*fsnotify.Watcher, string) error
	every   time.Duration // how often poll looks
	why     string        // why polling turned on by itself
	paths   []string      // the trees and the extra paths, absolute
	limit   *limitError   // the inotify limit, when reached mid-run
	changes chan reload.Change
	errs    chan error
	done    chan struct{}
	dirs    int
	files   int
}

// An alias is a tree or a --watch path as the caller named it, and where it
// resolves when that differs: a path through a symlinked directory. The
// watcher walks and watches the resolved paths (a walk does not descend
// into a symlink, nor does inotify follow one below it) and names what
// changed the caller's way.
type alias struct{ real, named string }

// Options tune a Watcher.
type Options struct {
	// Rules say which files are source and which assets: a language's
	// rules, from its builder. The zero Rules count every file as source.
	Rules   Rules
	Delay   time.Duration // quiet period before a batch is delivered; 50ms if zero
	Watch   []string      // extra files or directories whose changes count
	Exclude []string      // patterns (path.Match, on the base name or the path from root) that never count
	// Assets, if not nil, replace the Rules' assets: patterns (path.Match,
	// on the base name) of files the program reads at run time.
	Assets []string
	// Modules are more trees watched as the root is, with the same rules:
	// replace targets on disk, the other modules of a go.work workspace.
	Modules []string
	// Poll, when positive, watches by looking at the files every Poll
	// rather than by the kernel's events, whatever the file system. When
	// zero, polling (every DefaultPoll) turns on by itself where events
	// cannot be trusted; see Watcher.Polling.
	Poll time.Duration

	fsType   func(path string) (int64, error)            // statfs's f_type; tests replace it
	addWatch func(w *fsnotify.Watcher, dir string) error // (*fsnotify.Watcher).Add; tests replace it
}

// DefaultPoll is how often a watcher that polls looks at the files, unless
// told otherwise: a save shows within a second, and on 5,000 files the
// looks cost about 1% of a core (docs/benchmarks.md).
const DefaultPoll = time.Second

// Watch starts watching root.
func New(root string, o Options) (*Watcher, error) {
	w, err := newWatcher(root, o)
	if err != nil {
		return nil, err
	}
	if w.poll != nil {
		go w.pollLoop(w.every)
	} else {
		go w.loop(w.fs.Events, w.fs.Errors)
	}
	return w, nil
}

// newWatcher watches root's directories but delivers nothing until its loop runs.
func newWatcher(root string, o Options) (*Watcher, error) {
	named, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("reload: watch: %w", err)
	}
	if o.Delay <= 0 {
		o.Delay = 50 * time.Millisecond
	}
	w := &Watcher{
		named: named, delay: o.Delay, add: o.addWatch,
		changes: make(chan reload.Change, 1), errs: make(chan error, 8), done: make(chan struct{}),
	}
	w.Changes, w.Errors = w.changes, w.errs
	if w.add == nil {
		w.add = (*fsnotify.Watcher).Add
	}
	root = w.resolve(named)
	w.root = root
	var extra []string
	for _, p := range o.Watch {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("reload: --watch %s: %w", p, err)
		}
		extra = append(extra, w.resolve(abs))
	}
	trees := []string{root}
	for _, m := range o.Modules {
		abs, err := filepath.Abs(m)
		if err != nil {
			continue
		}
		if abs = w.resolve(abs); abs != root && !slices.Contains(trees, abs) {
			trees = append(trees, abs)
		}
	}
	rules := o.Rules
	if o.Assets != nil {
		rules.Assets = o.Assets
	}
	for _, t := range trees {
		w.filters = append(w.filters, &filter{root: t, watch: extra, excludes: o.Exclude, rules: rules, git: newGitIgnore(t)})
	}
	w.paths = slices.Concat(trees, extra)
	if err := w.start(o); err != nil {
		return nil, err
	}
	return w, nil
}

// resolve follows the symlinks in abs, and remembers the alias when it
// went through one. A path that does not exist (yet) stays as it is.
func (w *Watcher) resolve(abs string) string {
	real, err := filepath.EvalSymlinks(abs)
	if err != nil || real == abs {
		return abs
	}
	w.aliases = append(w.aliases, alias{real: real, named: abs})
	return real
}

// callerName turns a resolved path into the caller's name for it, or, with
// toReal, the caller's name into the resolved path, by the innermost alias
// that holds it.
func (w *Watcher) callerName(p string, toReal bool) string {
	from, to := "", ""
	for _, a := range w.aliases {
		f, t := a.real, a.named
		if toReal {
			f, t = t, f
		}
		if within(p, f) && len(f) > len(from) {
			from, to = f, t
		}
	}
	if from == "" {
		return p
	}
	return to + p[len(from):]
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+string(filepath.Separator))
}

// start watches by the kernel's events, unless told to poll or they cannot
// be trusted.
func (w *Watcher) start(o Options) error {
	if o.Poll > 0 {
		return w.startPoll(w.paths, o.Poll, "")
	}
	if why := untrusted(w.paths, o.fsType); why != "" {
		return w.startPoll(w.paths, DefaultPoll, why)
	}
	err := w.startNotify(w.paths)
	var limit *limitError
	if errors.As(err, &limit) {
		return w.startPoll(w.paths, DefaultPoll, limit.fallback())
	}
	return err
}

// startNotify watches the trees and the extra paths by the kernel's events.
func (w *Watcher) startNotify(paths []string) error {
	fw, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		return watchError(w.root, err)
	}
	w.fs = fw
	for _, t := range paths {
		if _, err := w.addTree(t); err != nil && (t == w.root || !errors.Is(err, fs.ErrNotExist)) {
			fw.Close()
			w.fs = nil
			return err
		}
	}
	return nil
}

// filterFor returns the filter of the innermost tree holding abs; the
// root's for a path outside them all (a --watch path).
func (w *Watcher) filterFor(abs string) *filter {
	best := w.filters[0]
	for _, f := range w.filters[1:] {
		if within(abs, f.root) && len(f.root) > len(best.root) {
			best = f
		}
	}
	return best
}

// Trees returns the roots of the trees watched, as the caller named them:
// the root, then the other modules' directories.
func (w *Watcher) Trees() []string {
	roots := make([]string, len(w.filters))
	for i, f := range w.filters {
		roots[i] = w.callerName(f.root, false)
	}
	return roots
}

// Stats returns how many directories are watched and how many files in
// them count, as of the start.
func (w *Watcher) Stats() (dirs, files int) { return w.dirs, w.files }

// Polling reports how often the watcher looks at the files, or 0 when it
// waits for the kernel's events; and why polling turned on by itself: ""
// when Options.Poll asked for it. It tells the start: a watcher that
// runs out of inotify watches later says so on Errors.
func (w *Watcher) Polling() (every time.Duration, why string) { return w.every, w.why }

// GitIgnore reports whether .gitignore rules apply (root is in a git work tree).
func (w *Watcher) GitIgnore() bool { return w.filters[0].git != nil }

// SetBuildFiles tells the watcher of files the build reads that its rules
// do not name (the files //go:embed pulls into a Go build), so that their
// changes count as source.
func (w *Watcher) SetBuildFiles(abs []string) {
	real := make([]string, len(abs))
	for i, p := range abs {
		real[i] = w.callerName(p, true)
	}
	for _, f := range w.filters {
		f.setBuildFiles(real)
	}
}

// Close stops the watcher.
func (w *Watcher) Close() error {
	close(w.done)
	if w.fs == nil {
		return nil
	}
	return w.fs.Close()
}

// addTree watches dir and every directory below it that is not skipped, and
// returns the files below it that count. Each directory is watched before
// it is read, so that a file created meanwhile is either read or reported.
// A dir that is a file (a --watch path) is watched through the directory
// holding it: a watch on the file itself would be lost when an editor
// replaces it by a rename.
func (w *Watcher) addTree(dir string) ([]string, error) {
	f := w.filterFor(dir)
	var dirs, found []string
	var watchErr error
	err := f.walk(dir, func(p string, _ fs.DirEntry) error {
		if err := w.add(w.fs, p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			watchErr = watchError(p, err)
			return filepath.SkipAll
		}
		dirs = append(dirs, p)
		return nil
	}, func(p string, _ fs.DirEntry) {
		if p == dir {
			if err := w.add(w.fs, filepath.Dir(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				watchErr = watchError(filepath.Dir(p), err)
			}
		}
		if f.counts(p) {
			found = append(found, p)
		}
	})
	if watchErr != nil {
		return nil, watchErr
	}
	if err != nil {
		return nil, err
	}
	// Directories git ignores were watched while walking; let them go.
	ignored := f.git.ignored(dirs)
	for _, d := range dirs {
		if ignored[d] || f.insideIgnored(d, ignored) {
			w.fs.Remove(d)
			continue
		}
		w.dirs++
	}
	found = slices.DeleteFunc(found, func(p string) bool { return f.insideIgnored(p, ignored) })
	w.files += len(found)
	return found, nil
}

// walk visits dir and the directories and files below it that f does not
// skip, dir itself whatever its name. What vanishes mid-walk is passed over:
// a watcher learns of it from its own event or from the next look.
func (f *filter) walk(dir string, onDir func(string, fs.DirEntry) error, onFile func(string, fs.DirEntry)) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil
		}
		if !d.IsDir() {
			onFile(p, d)
			return nil
		}
		if p != dir && f.skipDir(p) {
			return filepath.SkipDir
		}
		return onDir(p, d)
	})
}

func (f *filter) insideIgnored(p string, ignored map[string]bool) bool {
	for d := filepath.Dir(p); len(d) > len(f.root); d = filepath.Dir(d) {
		if ignored[d] {
			return true
		}
	}
	return false
}

// watchError explains the failure users hit most: the inotify watch limit.
func watchError(path string, err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE) {
		return &limitError{path: path, err: err}
	}
	return fmt.Errorf("reload: watch %s: %w", path, err)
}

// A limitError is the inotify watch (or instance) limit, reached at path.
type limitError struct {
	path string
	err  error
}

func (e *limitError) Error() string {
	return fmt.Sprintf("reload: out of inotify watches at %s; raise the limit with "+
		"`sudo sysctl fs.inotify.max_user_watches=524288` (and max_user_instances), "+
		"--exclude large directories, or serve with --no-reload", e.path)
}

func (e *limitError) Unwrap() error { return e.err }

// fallback says why a watcher polls instead, and how to have events back.
func (e *limitError) fallback() string {
	return fmt.Sprintf("out of inotify watches at %s; `sudo sysctl fs.inotify.max_user_watches=524288` "+
		"(and max_user_instances) brings watching by events back", e.path)
}

// pollFromNow ends the event loop when the inotify limit is reached mid-run:
// the watcher polls from then on. What the directories that could not be
// watched held when they appeared is not known, so the first batch is a
// rescan.
func (w *Watcher) pollFromNow(pending map[string]bool) {
	w.fs.Close()
	p, err := w.newPoller(w.paths)
	if err != nil {
		w.report(err)
		return
	}
	w.poll = p
	w.report(fmt.Errorf("reload: watching by polling every %v from now on: %s", DefaultPoll, w.limit.fallback()))
	if w.deliver(pending, true) {
		w.pollLoop(DefaultPoll)
	}
}

// loop gathers events into batches, one per quiet period.
func (w *Watcher) loop(events <-chan fsnotify.Event, errs <-chan error) {
	pending := map[string]bool{}
	rescan := false
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-w.done:
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if w.handle(ev, pending) {
				timer.Reset(w.delay)
			}
			if w.limit != nil {
				w.pollFromNow(pending)
				return
			}
		case err, ok := <-errs:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost: watch anything new and rebuild.
				for _, f := range w.filters {
					w.addTree(f.root)
				}
				rescan = true
				timer.Reset(w.delay)
				continue
			}
			w.report(err)
		case <-timer.C:
			if !w.deliver(pending, rescan) {
				return
			}
			pending, rescan = map[string]bool{}, false
		}
	}
}

// handle records one event and reports whether it counts.
func (w *Watcher) handle(ev fsnotify.Event, pending map[string]bool) bool {
	if w.outside(ev.Name) {
		return false // a neighbour of a --watch file, in the directory watched for it
	}
	if ev.Has(fsnotify.Create) {
		f := w.filterFor(ev.Name)
		if fi, err := statDir(ev.Name); err == nil && fi && !f.skipDir(ev.Name) && !f.inSkippedDir(ev.Name) {
			// A new (or renamed-in) directory: watch it, and count what
			// it already holds, which no event will report.
			found, err := w.addTree(ev.Name)
			if errors.As(err, &w.limit) {
				return true
			} else if err != nil {
				w.report(err)
			}
			for _, p := range found {
				pending[p] = true
			}
			return len(found) > 0
		}
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		if w.dropTree(ev.Name) {
			pending[ev.Name] = true // a directory went away, with its files
			return true
		}
	}
	if !ev.Has(fsnotify.Create) && !ev.Has(fsnotify.Write) && !ev.Has(fsnotify.Remove) && !ev.Has(fsnotify.Rename) {
		return false // Chmod alone changes nothing the compiler reads
	}
	return w.note(ev.Name, pending)
}

// outside reports whether p is in none of the trees and none of the --watch
// paths.
func (w *Watcher) outside(p string) bool {
	for _, t := range w.paths {
		if within(p, t) {
			return false
		}
	}
	return true
}

// note records a change to the file at abs in pending, true for one the
// build reads and false for an asset, and reports whether it counts at all.
func (w *Watcher) note(abs string, pending map[string]bool) bool {
	f := w.filterFor(abs)
	switch {
	case f.counts(abs):
		pending[abs] = true
	case f.asset(abs):
		if _, seen := pending[abs]; !seen {
			pending[abs] = false // read at run time: no build
		}
	default:
		return false
	}
	return true
}

// dropTree stops watching a directory that was removed or renamed away, and
// everything below it; a renamed directory would otherwise go on reporting
// under its old name. It reports whether dir was watched.
func (w *Watcher) dropTree(dir string) bool {
	was := false
	for _, p := range w.fs.WatchList() {
		if within(p, dir) {
			w.fs.Remove(p)
			was = true
		}
	}
	return was
}

// deliver sends the batch of pending paths, if anything in it counts. It
// reports false once the watcher is closed.
func (w *Watcher) deliver(pending map[string]bool, rescan bool) bool {
	c := w.batch(pending, rescan)
	if len(c.Paths) == 0 && len(c.Assets) == 0 && !c.Rescan {
		return true
	}
	select {
	case w.changes <- c:
		return true
	case <-w.done:
		return false
	}
}

// batch turns pending paths into a reload.Change, leaving out what git ignores.
func (w *Watcher) batch(pending map[string]bool, rescan bool) reload.Change {
	byTree := map[*filter][]string{}
	for p := range pending {
		f := w.filterFor(p)
		byTree[f] = append(byTree[f], p)
	}
	c := reload.Change{Rescan: rescan}
	for f, paths := range byTree {
		ignored := f.git.ignored(paths)
		for _, p := range paths {
			if ignored[p] || f.insideIgnored(p, ignored) {
				continue
			}
			named := w.callerName(p, false)
			rel, err := filepath.Rel(w.named, named)
			if err != nil {
				rel = named
			}
			if pending[p] {
				c.Paths = append(c.Paths, filepath.ToSlash(rel))
			} else {
				c.Assets = append(c.Assets, filepath.ToSlash(rel))
			}
		}
	}
	slices.Sort(c.Paths)
	slices.Sort(c.Assets)
	return c
}

func (w *Watcher) report(err error) {
	select {
	case w.errs <- err:
	default: // nobody is listening; the next error will do
	}
}
