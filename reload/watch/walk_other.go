//go:build !linux

package watch

import (
	"io/fs"
	"path/filepath"
)

// walk records the state of everything below root that f does not skip.
func (p *poller) walk(f *filter, root string) error {
	return f.walk(root, func(path string, d fs.DirEntry) error {
		if p.ignored[path] {
			return filepath.SkipDir
		}
		p.saw(path)
		p.record(path, d)
		return nil
	}, func(path string, d fs.DirEntry) { p.record(path, d) })
}

func (p *poller) record(path string, d fs.DirEntry) {
	fi, err := d.Info()
	if err != nil {
		return // gone since the directory was read
	}
	p.next[path] = stateOf(fi)
}
