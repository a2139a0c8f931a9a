//go:build !unix

package python

import "errors"

var errNotHere = errors.New("not on this system")

func mkfifo(path string) error { return errNotHere }
func kill9(pid int) error      { return errNotHere }
func exists(pid int) bool      { return false }
