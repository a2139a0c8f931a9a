package python

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// TestChannelsError: running out of descriptors for a worker's channels
// says which limit, and what to do.
func TestChannelsError(t *testing.T) {
	got := channelsError(100000, fmt.Errorf("fcntl: %w", syscall.EMFILE))
	if !strings.Contains(got, "a worker of 100000 threads: too many open files; use fewer threads, or raise the limit (ulimit -n)") {
		t.Errorf("EMFILE: %s", got)
	}
	if got := channelsError(2, syscall.ENOMEM); !strings.Contains(got, syscall.ENOMEM.Error()) {
		t.Errorf("another error: %s", got)
	}
}
