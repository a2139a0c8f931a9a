// Package scratch makes the temporary directories wsgo's processes write
// in, each named after its process and marked as wsgo's, and removes those
// whose process is gone: a process killed outright cannot remove its own.
package scratch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Marker names the file that marks a directory as wsgo's, so that Dir
// removes no directory wsgo did not make.
const Marker = ".wsgo-build"

// Dir makes a new directory $TMPDIR/wsgo-PID-DIGITS, marked as wsgo's, for
// this process to remove when it is done; first it removes those of wsgo
// processes that are gone.
func Dir() (string, error) {
	sweep()
	dir, err := os.MkdirTemp("", fmt.Sprintf("wsgo-%d-", os.Getpid()))
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, Marker), nil, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// sweep removes the directories of wsgo processes that are gone: named
// wsgo-PID-DIGITS, holding the marker, their PID not running.
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "wsgo-*-*"))
	for _, d := range dirs {
		parts := strings.Split(filepath.Base(d), "-")
		if len(parts) != 3 || !digits(parts[2]) {
			continue
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid == os.Getpid() || !processGone(pid) {
			continue
		}
		if fi, err := os.Lstat(filepath.Join(d, Marker)); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		os.RemoveAll(d)
	}
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
