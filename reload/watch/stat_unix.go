//go:build unix && !linux

package watch

import (
	"io/fs"
	"syscall"
)

func stateOf(fi fs.FileInfo) fileState {
	st := fileState{mtime: fi.ModTime().UnixNano(), size: fi.Size(), dir: fi.IsDir()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = uint64(sys.Ino)
	}
	return st
}
