package watch

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"time"
)

// A poller finds changes by looking at every file's metadata and comparing
// it with the last look: for trees whose file system does not deliver the
// kernel's events for changes made elsewhere (network and FUSE mounts,
// virtual machines' shared folders), and when the inotify limit is reached.
type poller struct {
	paths   []string             // the trees and the extra paths, absolute
	seen    map[string]fileState // as of the last look
	next    map[string]fileState // the look under way; kept to reuse its memory
	ignored map[string]bool      // directories git ignores: never read again
	added   []string             // directories new in the look under way
	looks   atomic.Int64         // how many looks were taken, for tests
}

// fileState is what a look compares. The change time is left out: a chmod
// changes it, and a chmod alone changes nothing the compiler reads. The
// inode tells a file that an editor replaced by a rename even when its size
// and modification time are the same.
type fileState struct {
	mtime int64
	size  int64
	ino   uint64
	dir   bool
}

// startPoll takes the first look at paths; the loop looks every interval.
func (w *Watcher) startPoll(paths []string, every time.Duration, why string) error {
	p, err := w.newPoller(paths)
	if err != nil {
		return err
	}
	w.poll, w.every, w.why = p, every, why
	w.dirs, w.files = 0, 0 // what the event watcher counted before it gave up
	for p, st := range w.poll.seen {
		if st.dir {
			w.dirs++
		} else if w.filterFor(p).counts(p) {
			w.files++
		}
	}
	return nil
}

// newPoller takes the first look at paths.
func (w *Watcher) newPoller(paths []string) (*poller, error) {
	p := &poller{paths: paths, seen: map[string]fileState{}, next: map[string]fileState{}, ignored: map[string]bool{}}
	_, err := p.look(w, nil)
	return p, err
}

// pollLoop looks every interval. A look that finds a change is followed by
// another after the quiet period, and so on until one finds nothing new:
// then the batch goes out, as the event loop's does after a quiet period.
func (w *Watcher) pollLoop(every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	pending := map[string]bool{}
	said := "" // the last look's error
	for {
		settled := false
		select {
		case <-w.done:
			return
		case <-tick.C:
		case <-quiet.C:
			settled = true
		}
		changed, err := w.poll.look(w, pending)
		if err != nil && err.Error() != said {
			w.report(err) // once, not at every look while it lasts
		}
		said = ""
		if err != nil {
			said = err.Error()
		}
		switch {
		case changed:
			quiet.Reset(w.delay)
		case settled:
			if !w.deliver(pending, false) {
				return
			}
			pending = map[string]bool{}
		}
	}
}

// look walks the paths, records what changed since the last look in pending
// (nil on the first look, which only records), and reports whether anything
// that counts changed. It fails only when the root cannot be read.
func (p *poller) look(w *Watcher, pending map[string]bool) (bool, error) {
	defer p.looks.Add(1)
	clear(p.next)
	p.added = p.added[:0]
	for _, root := range p.paths {
		if err := p.walk(w.filterFor(root), root); err != nil && root == w.root {
			return false, fmt.Errorf("reload: watch %s: %w", root, err)
		}
	}
	p.dropIgnored(w)
	changed := false
	if pending != nil {
		changed = p.diff(w, pending)
	}
	p.seen, p.next = p.next, p.seen
	return changed, nil
}

// saw records that a look found directory path: new, if the last look
// did not, and so to be asked of git.
func (p *poller) saw(path string) {
	if _, ok := p.seen[path]; !ok {
		p.added = append(p.added, path)
	}
}

// dropIgnored asks git, once for each directory new in this look, whether
// it is ignored; an ignored one is left out of this look and of every later
// one. So git runs only when directories appear.
func (p *poller) dropIgnored(w *Watcher) {
	if len(p.added) == 0 {
		return
	}
	byTree := map[*filter][]string{}
	for _, d := range p.added {
		f := w.filterFor(d)
		byTree[f] = append(byTree[f], d)
	}
	for f, dirs := range byTree {
		ignored := f.git.ignored(dirs)
		if len(ignored) == 0 {
			continue
		}
		for d := range ignored {
			p.ignored[d] = true
		}
		for path := range p.next {
			if ignored[path] || f.insideIgnored(path, ignored) {
				delete(p.next, path)
			}
		}
	}
}

// diff records in pending the files that appeared, changed or went away, and
// the directories that went away (their files with them, as an event watcher
// reports a directory moved out of the tree).
func (p *poller) diff(w *Watcher, pending map[string]bool) bool {
	changed := false
	for path, st := range p.next {
		old, ok := p.seen[path]
		if ok && old == st {
			continue
		}
		if st.dir && (!ok || old.dir) {
			continue // a directory's own time changes with its entries, which are compared themselves
		}
		// A file that changed, appeared, or turned into a directory (its
		// removal, as an event watcher reports it).
		changed = w.note(path, pending) || changed
	}
	for path, old := range p.seen {
		if _, ok := p.next[path]; ok || p.goneWithParent(path) {
			continue
		}
		if old.dir {
			pending[path] = true
			changed = true
			continue
		}
		changed = w.note(path, pending) || changed
	}
	return changed
}

// goneWithParent reports whether path's directory went away too: the
// directory then stands for what it held.
func (p *poller) goneWithParent(path string) bool {
	parent := filepath.Dir(path)
	_, was := p.seen[parent]
	_, is := p.next[parent]
	return was && !is
}
