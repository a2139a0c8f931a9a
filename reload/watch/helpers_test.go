package watch

import (
	"strings"
	"syscall"
)

var errNoSpace = syscall.ENOSPC

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// testRules are Go's rules, from package gobuild, which imports this one:
// rules_test.go, in the external test package, sets them.
var testRules Rules

// SetTestRules is how the external test package hands in Go's rules.
func SetTestRules(r Rules) { testRules = r }
