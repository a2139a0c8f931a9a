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

// TestRunCheck: each bad number is named alone, and jitter needs
// -max-requests.
func TestRunCheck(t *testing.T) {
	for args, want := range map[string]string{
		"-max-requests -5":                         "invalid -max-requests -5: want 0 (never) or more",
		"-max-requests 10 -max-requests-jitter -1": "invalid -max-requests-jitter -1: want 0 or more",
		"-max-requests-jitter 5":                   "-max-requests-jitter 5 without -max-requests",
		"-workers 0":                               "invalid -workers 0: want 1 or more",
	} {
		var stderr strings.Builder
		code := pythonProgram().Main(append([]string{"app.py"}, strings.Fields(args)...), io.Discard, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), want) {
			t.Errorf("%s: exit %d, want %d and %q:\n%s", args, code, exitUsage, want, stderr.String())
		}
	}
}
