//go:build !linux

package cmd

import (
	"errors"
	"os"
	"runtime"
)

// openPTY opens a pseudo-terminal pair where the tests know how: on Linux.
func openPTY() (master, slave *os.File, err error) {
	return nil, nil, errors.New("the tests open a pseudo-terminal only on Linux, not on " + runtime.GOOS)
}
