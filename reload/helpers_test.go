package reload

import (
	"strings"
	"syscall"
)

var errNoSpace = syscall.ENOSPC

func contains(s, sub string) bool { return strings.Contains(s, sub) }
