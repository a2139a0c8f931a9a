//go:build unix

package cmd

import (
	"strings"
	"testing"
)

// TestServePollRebuilds: with --poll alone, the banner says the tree is
// polled every second because the flag asked, and an edit to Go source is
// seen, built and served.
func TestServePollRebuilds(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	s := g.serve(t, "--poll")
	s.waitForOutput(t, " * Watching by polling every 1s (--poll)")
	g.write(t, "message.go", messageGo("seen by polling"))
	waitForBody(t, s.url+"/", 200, "seen by polling")
	s.waitForOutput(t, "message.go changed: building")
}

// TestServePollFromTheEnvironment: WSGO_POLL sets the interval, and the
// banner names it.
func TestServePollFromTheEnvironment(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	s := g.serveIn(t, g.dir, []string{"WSGO_POLL=250ms"})
	s.waitForOutput(t, " * Watching by polling every 250ms (WSGO_POLL)")
}

// TestServeWatchesByEventsUnlessTold: on a local disk, with neither the
// flag nor the variable, no polling.
func TestServeWatchesByEventsUnlessTold(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	s := g.serve(t)
	if strings.Contains(s.stderr.String(), "polling") {
		t.Errorf("polls on a local disk:\n%s", s.stderr)
	}
}

func TestServePollErrors(t *testing.T) {
	e2e(t)
	for _, tt := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"--poll=0s"}, "invalid --poll 0s: want a positive interval, such as 1s"},
		{nil, []string{"--poll=-1s"}, "invalid --poll -1s: want a positive interval"},
		{nil, []string{"--poll=1ms"}, "invalid --poll 1ms: want at least 100ms; polling more often costs a core on a large tree"},
		{nil, []string{"--poll=99ms"}, "invalid --poll 99ms: want at least 100ms"},
		{nil, []string{"--poll=often"}, `invalid --poll "often": want a duration such as 5s or 250ms`},
		{nil, []string{"--poll", "--no-reload"}, "--poll and --no-reload: with reload off nothing is watched"},
		{nil, []string{"--poll", "2s"}, "--poll takes its interval after an equals sign: --poll=2s"},
		{[]string{"WSGO_POLL=0"}, nil, "invalid WSGO_POLL=0s: want a positive interval"},
		{[]string{"WSGO_POLL=1ns"}, nil, "invalid WSGO_POLL=1ns: want at least 100ms"},
		{[]string{"WSGO_POLL=yes"}, nil, `invalid WSGO_POLL="yes": want a duration`},
	} {
		code, out := runWsgo(t, tt.env, append([]string{"serve", "demo", "--port", "0"}, tt.args...)...)
		if code != 2 || !strings.Contains(out, tt.want) {
			t.Errorf("%v %v: exit %d, want 2 and %q:\n%s", tt.env, tt.args, code, tt.want, out)
		}
	}
}
