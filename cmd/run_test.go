package cmd

import (
	"io"
	"strings"
	"testing"
)

// TestGoProcs: wsgo run leaves half the processors to its Python workers,
// and always keeps one for Go.
func TestGoProcs(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 1, 3: 1, 4: 2, 16: 8} {
		if got := goProcs(n); got != want {
			t.Errorf("goProcs(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestRunGunicornFlags: a gunicorn flag wsgo run does not have is refused
// with the flag that does its work, and exit 2.
func TestRunGunicornFlags(t *testing.T) {
	for flag, want := range map[string]string{
		"-bind":    "For gunicorn's -bind, use -host and -port.",
		"--w":      "For gunicorn's -w, use -workers.",
		"-timeout": "wsgo run has no request timeout",
		"-nosuch":  "run -help' to see the flags.",
	} {
		var stderr strings.Builder
		code := pythonProgram().Main([]string{"app.py", flag, "x"}, io.Discard, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: exit %d, want %d and %q:\n%s", flag, code, exitUsage, want, stderr.String())
		}
	}
}
