package watch

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// walk records the state of everything below root that f does not skip,
// with the rules of filter.walk. It reads each directory's names unsorted
// and stats them relative to it (fstatat), which spares the kernel a lookup
// of the whole path for each file and the walk a DirEntry and a FileInfo
// for each: on 5,000 files a look takes 30% less time than with
// filepath.WalkDir, and allocates a quarter of the bytes (BenchmarkPollLook).
func (p *poller) walk(f *filter, root string) error {
	var st unix.Stat_t
	if err := unix.Lstat(root, &st); err != nil {
		return &os.PathError{Op: "lstat", Path: root, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		p.next[root] = stateOfStat(&st)
		return nil
	}
	if p.ignored[root] {
		return nil
	}
	p.saw(root)
	p.next[root] = stateOfStat(&st)
	return p.walkDir(f, root)
}

// walkDir records dir's entries, then walks its subdirectories, with dir
// closed: a deep tree holds one descriptor at a time.
func (p *poller) walkDir(f *filter, dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1) // no sorting, no DirEntry: the stat says all

	fd := int(d.Fd())
	var subdirs []string
	var st unix.Stat_t
	for _, name := range names {
		path := dir + string(filepath.Separator) + name
		if unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil {
			continue // gone since the directory was read
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if f.skipDir(path) || p.ignored[path] {
				continue
			}
			p.saw(path)
			subdirs = append(subdirs, path)
		}
		p.next[path] = stateOfStat(&st)
	}
	d.Close()
	for _, sub := range subdirs {
		p.walkDir(f, sub) // one that vanished meanwhile is found gone by the diff
	}
	return err
}

func stateOfStat(st *unix.Stat_t) fileState {
	return fileState{
		mtime: st.Mtim.Nano(),
		size:  st.Size,
		ino:   st.Ino,
		dir:   st.Mode&unix.S_IFMT == unix.S_IFDIR,
	}
}
