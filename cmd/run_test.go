package cmd

import (
	"io"
	"runtime"
	"strings"
	"testing"
)

// TestGoProcs: wsgo run leaves half the processors to its Python workers,
// and always keeps one for Go, unless GOMAXPROCS says otherwise.
func TestGoProcs(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 1, 3: 1, 4: 2, 16: 8} {
		if got := goProcs(n); got != want {
			t.Errorf("goProcs(%d) = %d, want %d", n, got, want)
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(4)
	t.Setenv("GOMAXPROCS", "")
	if limitGoProcs(); runtime.GOMAXPROCS(0) != 2 {
		t.Errorf("4 processors, no GOMAXPROCS: Go has %d, want 2", runtime.GOMAXPROCS(0))
	}
	runtime.GOMAXPROCS(4)
	t.Setenv("GOMAXPROCS", "4")
	if limitGoProcs(); runtime.GOMAXPROCS(0) != 4 {
		t.Errorf("GOMAXPROCS=4: Go has %d, want the 4 it asks for", runtime.GOMAXPROCS(0))
	}
}

// TestRunUsageErrors: a gunicorn flag wsgo run does not have is refused
// with the flag that does its work; each bad number is named alone, and
// jitter needs -max-requests; all exit 2.
func TestRunUsageErrors(t *testing.T) {
	for args, want := range map[string]string{
		"-bind x":          "For gunicorn's -bind, use -host and -port.",
		"--w x":            "For gunicorn's -w, use -workers.",
		"-timeout x":       "wsgo run has no request timeout",
		"-nosuch x":        "run -help' to see the flags.",
		"-max-requests -5": "invalid -max-requests -5: want 0 (never) or more",
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
