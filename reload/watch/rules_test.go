package watch_test

import (
	"github.com/wsgo/wsgo/reload/gobuild"
	"github.com/wsgo/wsgo/reload/watch"
)

// The watcher's tests run with Go's rules, as wsgo serve gives them.
func init() { watch.SetTestRules(gobuild.Rules) }
