//go:build !unix

package python

import "errors"

func mkfifo(path string) error { return errors.New("not on this system") }
