//go:build !unix

package watch

import "io/fs"

func stateOf(fi fs.FileInfo) fileState {
	return fileState{mtime: fi.ModTime().UnixNano(), size: fi.Size(), dir: fi.IsDir()}
}
