//go:build unix

package reload

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// diskBuilder is a Builder as a production program's: each build is a
// fresh copy, for the supervisor to remove, of the program "on disk" now,
// a fake server in the mode set last.
type diskBuilder struct {
	t      *testing.T
	dir    string // where the copies go
	mu     sync.Mutex
	mode   string
	builds int
}

func newDiskBuilder(t *testing.T, mode string) *diskBuilder {
	return &diskBuilder{t: t, dir: t.TempDir(), mode: mode}
}

func (b *diskBuilder) set(mode string) {
	b.mu.Lock()
	b.mode = mode
	b.mu.Unlock()
}

func (b *diskBuilder) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.builds
}

func (b *diskBuilder) Build(ctx context.Context) (*Program, error) {
	b.mu.Lock()
	b.builds++
	mode, n := b.mode, b.builds
	b.mu.Unlock()
	script, err := os.ReadFile(fakeScript(b.t, mode, ""))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(b.dir, "copy-"+strconv.Itoa(n))
	if err := os.WriteFile(path, script, 0o755); err != nil {
		return nil, err
	}
	return &Program{Argv: []string{path}, Temporary: true}, nil
}

func production(s *Supervisor) {
	s.Production = true
	s.KeepOnFailure = true
	s.Fallback = nil
	s.Backoff = 100 * time.Millisecond
	s.MaxBackoff = 400 * time.Millisecond
}

var readyPid = regexp.MustCompile(`Ready in [^:]*: pid (\d+)`)

// killServer kills the server that became ready last, as the OOM killer
// would.
func (h *harness) killServer(t *testing.T) {
	t.Helper()
	m := readyPid.FindAllStringSubmatch(h.log.String(), -1)
	if m == nil {
		t.Fatalf("no server is ready:\n%s", h.log)
	}
	pid, _ := strconv.Atoi(m[len(m)-1][1])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// TestCrashRestartsTheLastGoodProgram: in production, a server killed
// outright is restarted from the program that last became ready, not from
// what is on disk now (a broken build, or nothing); the copy it kept is
// removed when Run ends.
func TestCrashRestartsTheLastGoodProgram(t *testing.T) {
	b := newDiskBuilder(t, "serve:good")
	h := supervise(t, nil, b, production)
	h.log.wait(t, "Ready in", 1)
	waitBody(t, h.url, "good")

	b.set("crash:a truncated build") // the program on disk is broken now
	h.killServer(t)
	h.log.wait(t, "restarting the program that last served", 1)
	h.log.wait(t, "Ready in", 2)
	waitBody(t, h.url, "good")
	if n := b.count(); n != 1 {
		t.Errorf("the restart took the program on disk: %d builds", n)
	}
	for _, bad := range []string{"rebuilding", "error page", "Built", "Ctrl-C"} {
		if strings.Contains(h.log.String(), bad) {
			t.Errorf("a production log says %q:\n%s", bad, h.log)
		}
	}
	if err := h.stop(t); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(b.dir); len(left) != 0 {
		t.Errorf("copies left behind: %v", left)
	}
}

// TestFailingRestartsBackOffAndAnswer503: while restarts fail (the app's
// database is down), each is tried after a longer wait, and a request is
// answered at once, 503 with Retry-After, not left waiting; once the cause
// is gone, the next restart serves.
func TestFailingRestartsBackOffAndAnswer503(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	os.WriteFile(db, nil, 0o644)
	h := supervise(t, nil, newDiskBuilder(t, "needs:"+db), production)
	h.log.wait(t, "Ready in", 1)
	waitBody(t, h.url, "up")

	os.Remove(db)
	h.killServer(t)
	h.log.wait(t, "restart 3 in a row", 1)
	client := &http.Client{Timeout: 2 * time.Second}
	saw503 := false
	for i := 0; i < 50 && !saw503; i++ {
		resp, err := client.Get(h.url)
		if err != nil {
			t.Fatalf("while nothing serves, a request was not answered within 2s: %v", err)
		}
		resp.Body.Close()
		saw503 = resp.StatusCode == http.StatusServiceUnavailable
		if saw503 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After: %v", resp.Header)
		}
	}
	if !saw503 {
		t.Fatalf("while nothing serves, no request got a 503:\n%s", h.log)
	}
	os.WriteFile(db, nil, 0o644)
	h.log.wait(t, "Ready in", 2)
	waitBody(t, h.url, "up")
	if log := h.log.String(); !strings.Contains(log, "in 100ms (restart 2 in a row") || !strings.Contains(log, "in 200ms (restart 3 in a row") {
		t.Errorf("the restarts did not back off:\n%s", log)
	}
}

// TestGivesUpAfterMaxRestarts: restarts that keep failing end Run with an
// error, so that a service manager can act, rather than go on for ever.
func TestGivesUpAfterMaxRestarts(t *testing.T) {
	db := filepath.Join(t.TempDir(), "db")
	os.WriteFile(db, nil, 0o644)
	h := supervise(t, nil, newDiskBuilder(t, "needs:"+db), func(s *Supervisor) {
		production(s)
		s.MaxRestarts = 3
	})
	h.log.wait(t, "Ready in", 1)
	os.Remove(db)
	h.killServer(t)
	select {
	case err := <-h.done:
		h.done <- err
		if err == nil || !strings.Contains(err.Error(), "after 3 restarts in a row") {
			t.Errorf("Run = %v; want it to give up after 3 restarts", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("Run did not give up:\n%s", h.log)
	}
}

// TestDevCrashLoopBacksOff: a server that crashes right after it is ready
// is rebuilt after a wait that doubles, and the terminal says so.
func TestDevCrashLoopBacksOff(t *testing.T) {
	modes := make([]string, 20)
	for i := range modes {
		modes[i] = "flash"
	}
	h := supervise(t, fakeProgram(t, "flash", ""), &fakeBuilder{t: t, modes: modes}, func(s *Supervisor) {
		s.Backoff = 100 * time.Millisecond
	})
	h.log.wait(t, "rebuilding to restart it in 200ms (restart 3 in a row; a save or Enter restarts it now)", 1)
	if n := strings.Count(h.log.String(), "Ready in") + strings.Count(h.log.String(), "ready in"); n > 4 {
		t.Errorf("%d starts for 3 restarts:\n%s", n, h.log)
	}
}

// TestSlowRestartAnswers503: in production, while the server that replaces
// a crashed one takes its time to start, requests get 503 at once rather
// than wait in the socket's queue; the new server then serves.
func TestSlowRestartAnswers503(t *testing.T) {
	slow := filepath.Join(t.TempDir(), "slow")
	h := supervise(t, nil, newDiskBuilder(t, "slow:"+slow), production)
	h.log.wait(t, "Ready in", 1)
	waitBody(t, h.url, "up")
	os.WriteFile(slow, nil, 0o644) // the next start waits for this to go
	h.killServer(t)
	client := &http.Client{Timeout: 2 * time.Second}
	for i := 0; i < 3; i++ {
		resp, err := client.Get(h.url)
		if err != nil {
			t.Fatalf("while the new server starts, a request was not answered within 2s: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("while the new server starts: %d, want 503", resp.StatusCode)
		}
	}
	os.Remove(slow)
	h.log.wait(t, "Ready in", 2)
	waitBody(t, h.url, "up")
}

// TestStopRefusesNewConnections: once Run begins to stop, a new connection
// is refused at once instead of waiting for a server that drains.
func TestStopRefusesNewConnections(t *testing.T) {
	h := supervise(t, fakeProgram(t, "hang:one", ""), &fakeBuilder{t: t}, nil)
	h.log.wait(t, "Ready in", 1)
	resp, err := http.Get(h.url + "/hang") // holds the drain for its grace
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h.cancel()
	h.log.wait(t, "Stopping", 1)
	addr := strings.TrimPrefix(h.url, "http://")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return // refused
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("connections were still accepted while the server drained")
		}
	}
}
