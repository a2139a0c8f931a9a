//go:build unix

package reload

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsgo/wsgo/reload/control"
)

// The swap logic, tested with the test binary itself as the server: a fake
// builder hands out small scripts that run it in one of the modes below.
// No compiler is involved.

const envFake = "WSGO_FAKE_SERVER"

func TestMain(m *testing.M) {
	if mode, ok := os.LookupEnv(envFake); ok {
		os.Exit(fakeServer(mode))
	}
	os.Exit(m.Run())
}

// fakeServer is a server process: "serve:TEXT" answers TEXT, "hang:TEXT"
// too but never finishes a request below /hang, "crash:TEXT" writes TEXT and
// exits before it is ready, "never" is never ready, "errorpage" answers the
// failure its supervisor gave it, "flash" exits soon after it is ready,
// "needs:PATH" exits before it is ready unless PATH exists, then answers "up".
func fakeServer(mode string) int {
	child, err := control.Attach()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake server:", err)
		return 3
	}
	kind, text, _ := strings.Cut(mode, ":")
	switch kind {
	case "crash":
		os.Stderr.WriteString(text)
		return 2
	case "never":
		select {}
	case "refuse":
		child.Refuse(text)
		return 2
	case "errorpage":
		text = child.Problem
	case "flash": // ready, then gone
		child.Ready()
		time.Sleep(200 * time.Millisecond)
		return 1
	case "needs": // a database, say: the file text names
		if _, err := os.Stat(text); err != nil {
			fmt.Fprintln(os.Stderr, "fake server: not up yet:", err)
			return 2
		}
		text = "up"
	case "slow": // a start that takes as long as the file text names exists
		for i := 0; i < 6000; i++ {
			if _, err := os.Stat(text); err != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		text = "up"
	}
	var reloads atomic.Int64 // control.ReloadPages messages received
	var mu sync.Mutex
	fresh := map[net.Conn]bool{} // accepted, no request begun
	srv := &http.Server{ConnState: func(c net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		if st == http.StateNew {
			fresh[c] = true
		} else {
			delete(fresh, c)
		}
	}, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if kind == "hang" && r.URL.Path == "/hang" {
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		io.WriteString(w, text)
		if kind == "count" {
			fmt.Fprintf(w, " reloads=%d", reloads.Load())
		}
	})}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(child.Listener)
	}()
	child.Ready()
	for m := range child.Messages {
		if m == control.Stop || m == control.Handover {
			break
		}
		if m == control.ReloadPages {
			reloads.Add(1)
		}
	}
	// Shutdown waits for requests just accepted too: only /hang is cut off.
	grace := 10 * time.Second
	if kind == "hang" {
		grace = 500 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	// Close first, and let Serve record what it accepted before the close:
	// Shutdown does not wait for a connection Serve has not recorded yet.
	child.Listener.Close()
	<-served
	// Shutdown drops a request it reads after it began: let those of
	// connections just accepted be read first (the test's client opens no
	// spare connections).
	for i := 0; i < 400; i++ {
		mu.Lock()
		n := len(fresh)
		mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	var cut []string
	if srv.Shutdown(ctx) != nil {
		cut = []string{"GET /hang"}
	}
	child.Stopped(cut)
	return 0
}

// fakeBuilder hands out one script a build, running the test binary in the
// next mode; "fail:TEXT" is a build error and "block" waits to be cancelled.
type fakeBuilder struct {
	t         *testing.T
	mu        sync.Mutex
	modes     []string
	blocked   chan struct{} // closed when a "block" build waits
	cancelled chan struct{} // closed when it was cancelled
}

func (b *fakeBuilder) Build(ctx context.Context) (*Program, error) {
	b.mu.Lock()
	if len(b.modes) == 0 {
		b.mu.Unlock()
		return nil, fmt.Errorf("fake builder: no build left")
	}
	mode := b.modes[0]
	b.modes = b.modes[1:]
	b.mu.Unlock()
	switch kind, text, _ := strings.Cut(mode, ":"); kind {
	case "fail":
		return nil, &BuildError{Command: "go build .", Output: text}
	case "block":
		close(b.blocked)
		<-ctx.Done()
		close(b.cancelled)
		return nil, ctx.Err()
	}
	p := fakeProgram(b.t, mode, "")
	p.Temporary = true // a script of its own each build, as a go build's binary
	return p, nil
}

// fakeProgram is a program that runs the test binary as a fake server.
func fakeProgram(t *testing.T, mode, env string) *Program {
	return &Program{Argv: []string{fakeScript(t, mode, env)}}
}

// fakeScript writes a script that runs the test binary as a fake server.
func fakeScript(t *testing.T, mode, env string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(t.TempDir(), "server-*")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "#!/bin/sh\n%s %s=%s exec %s\n", env, envFake, shellQuote(mode), self)
	f.Close()
	os.Chmod(f.Name(), 0o755)
	return f.Name()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// lines is a Logger that a test can wait on.
type lines struct {
	mu      sync.Mutex
	text    strings.Builder
	changed chan struct{}
}

func newLines() *lines { return &lines{changed: make(chan struct{})} }

func (l *lines) add(format string, args ...any) {
	l.mu.Lock()
	fmt.Fprintf(&l.text, format+"\n", args...)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *lines) Printf(format string, args ...any)   { l.add(format, args...) }
func (l *lines) Successf(format string, args ...any) { l.add(format, args...) }
func (l *lines) Errorf(format string, args ...any)   { l.add(format, args...) }

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

// wait waits, a bounded time, until the log holds want n times.
func (l *lines) wait(t *testing.T, want string, n int) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		l.mu.Lock()
		got, changed := strings.Count(l.text.String(), want), l.changed
		l.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("the log never said %q %d times:\n%s", want, n, l)
		}
	}
}

// harness runs a Supervisor on a loopback port.
type harness struct {
	sup     *Supervisor
	log     *lines
	url     string
	changes chan Change
	cancel  context.CancelFunc
	done    chan error
}

func supervise(t *testing.T, first *Program, b Builder, tune func(*Supervisor)) *harness {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{log: newLines(), url: "http://" + ln.Addr().String(), changes: make(chan Change), done: make(chan error, 1)}
	h.sup = &Supervisor{Listener: ln, Builder: b, Changes: h.changes, First: first, Log: h.log,
		Grace: 5 * time.Second, Fallback: fakeProgram(t, "errorpage", "")}
	if tune != nil {
		tune(h.sup)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.sup.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(30 * time.Second):
			t.Error("Run did not return")
		}
		ln.Close()
	})
	return h
}

func (h *harness) stop(t *testing.T) error {
	t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		h.done <- err // for Cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
		return nil
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSwapOnChange(t *testing.T) {
	h := supervise(t, fakeProgram(t, "serve:one", ""), &fakeBuilder{t: t, modes: []string{"serve:two"}}, nil)
	h.log.wait(t, "Ready in", 1)
	if _, body := get(t, h.url); body != "one" {
		t.Fatalf("first server answered %q", body)
	}
	h.changes <- Change{Paths: []string{"a.go"}}
	h.log.wait(t, "Built in", 1)
	// The old server lets go of the socket when it hears of the swap; until
	// then either may answer, and no request may fail.
	waitBody(t, h.url, "two")
	if !strings.Contains(h.log.String(), "a.go changed: building") {
		t.Errorf("the change was not told:\n%s", h.log)
	}
	if err := h.stop(t); err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestBuildFailureShowsTheErrorPage(t *testing.T) {
	h := supervise(t, fakeProgram(t, "serve:one", ""), &fakeBuilder{t: t, modes: []string{"fail:main.go:3:1: syntax error", "serve:fixed"}}, nil)
	h.log.wait(t, "Ready in", 1)
	h.changes <- Change{Paths: []string{"main.go"}}
	h.log.wait(t, "Build failed", 1)
	// The error page replaces the server once it is ready, just after the line.
	waitBody(t, h.url, "main.go:3:1: syntax error")
	if !strings.Contains(h.log.String(), "syntax error") {
		t.Errorf("the compiler output is not in the terminal:\n%s", h.log)
	}
	h.changes <- Change{Paths: []string{"main.go"}}
	h.log.wait(t, "Built in", 1)
	waitBody(t, h.url, "fixed")
}

// TestCrashBeforeReadyShowsItsOutput: what a server wrote before dying is on
// the error page, even a NUL byte, which no environment variable can carry;
// and it is told in the terminal once, not twice.
func TestCrashBeforeReadyShowsItsOutput(t *testing.T) {
	var out strings.Builder
	var mu sync.Mutex
	h := supervise(t, fakeProgram(t, "serve:one", ""), &fakeBuilder{t: t, modes: []string{"crash:panic: boom\x00 in init\n"}}, func(s *Supervisor) {
		r, w, _ := os.Pipe()
		s.Stderr = w
		go func() {
			b := make([]byte, 4096)
			for {
				n, err := r.Read(b)
				mu.Lock()
				out.Write(b[:n])
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	})
	h.log.wait(t, "Ready in", 1)
	h.changes <- Change{Paths: []string{"main.go"}}
	h.log.wait(t, "Server exited before it was ready (exit status 2)", 1)
	body := waitBody(t, h.url, "panic: boom")
	if !strings.Contains(body, "in init") {
		t.Errorf("the error page lost what followed the NUL byte: %q", body)
	}
	mu.Lock()
	printed := out.String()
	mu.Unlock()
	if n := strings.Count(printed+h.log.String(), "panic: boom"); n != 1 {
		t.Errorf("the crash is told %d times in the terminal, want once:\n%s\n%s", n, printed, h.log)
	}
}

func TestNewerChangeCancelsTheBuild(t *testing.T) {
	b := &fakeBuilder{t: t, modes: []string{"block", "serve:newest"}, blocked: make(chan struct{}), cancelled: make(chan struct{})}
	h := supervise(t, fakeProgram(t, "serve:one", ""), b, nil)
	h.log.wait(t, "Ready in", 1)
	h.changes <- Change{Paths: []string{"a.go"}}
	<-b.blocked
	h.changes <- Change{Paths: []string{"b.go"}}
	select {
	case <-b.cancelled:
	case <-time.After(30 * time.Second):
		t.Fatal("the outdated build was not cancelled")
	}
	h.log.wait(t, "Built in", 1)
	waitBody(t, h.url, "newest")
}

// TestSlowServerIsToldThenStopped: a server that never says it is ready is
// reported, the old one serves meanwhile, and at --ready-timeout the error
// page takes over.
func TestSlowServerIsToldThenStopped(t *testing.T) {
	h := supervise(t, fakeProgram(t, "serve:one", ""), &fakeBuilder{t: t, modes: []string{"never"}}, func(s *Supervisor) {
		s.ReadyTimeout = 2 * time.Second
	})
	h.log.wait(t, "Ready in", 1)
	h.changes <- Change{Paths: []string{"a.go"}}
	h.log.wait(t, "has not said it is ready", 1)
	if _, body := get(t, h.url); body != "one" {
		t.Errorf("while the new server is slow, the old one answered %q", body)
	}
	h.log.wait(t, "was not ready after --ready-timeout 2s", 1)
	waitBody(t, h.url, "was not ready after --ready-timeout 2s")
}

func TestProtocolMismatchIsOneSentence(t *testing.T) {
	h := supervise(t, fakeProgram(t, "serve:one", ""), &fakeBuilder{t: t, modes: []string{"serve:two"}}, func(s *Supervisor) {
		s.Builder = BuilderFunc(func(context.Context) (*Program, error) {
			return fakeProgram(t, "serve:two", control.EnvProtocol+"=99"), nil
		})
	})
	h.log.wait(t, "Ready in", 1)
	h.changes <- Change{Paths: []string{"go.mod"}}
	h.log.wait(t, "Server refused to start", 1)
	body := waitBody(t, h.url, "reload protocol")
	want := fmt.Sprintf("the server speaks reload protocol %d and this wsgo speaks 99", control.Protocol)
	if !strings.Contains(body, want) || !strings.Contains(body, "go get github.com/wsgo/wsgo@") {
		t.Errorf("error page %q; want %q and the fix", body, want)
	}
}

// TestSocketStaysNonBlocking: starting a server must not switch the shared
// socket to blocking mode, or the old server's accept can block in the
// kernel and swallow a connection while it closes.
func TestSocketStaysNonBlocking(t *testing.T) {
	h := supervise(t, fakeProgram(t, "serve:one", ""), &fakeBuilder{t: t, modes: []string{"never"}}, nil)
	h.log.wait(t, "Ready in", 1)
	h.changes <- Change{Paths: []string{"a.go"}}
	h.log.wait(t, "changed: building", 1)
	// The new server started and never took the socket for itself: only
	// starting it could have changed the flag.
	for i := 0; i < 50; i++ {
		rc, _ := h.sup.Listener.SyscallConn()
		var flags int
		rc.Control(func(fd uintptr) { flags, _ = unix.FcntlInt(fd, unix.F_GETFL, 0) })
		if flags&unix.O_NONBLOCK == 0 {
			t.Fatalf("the listening socket is blocking after a server start (flags %#o)", flags)
		}
		if _, body := get(t, h.url); body != "one" {
			t.Fatalf("old server answered %q", body)
		}
	}
}

func TestStopNamesCutOffRequests(t *testing.T) {
	h := supervise(t, fakeProgram(t, "hang:one", ""), &fakeBuilder{t: t}, nil)
	h.log.wait(t, "Ready in", 1)
	resp, err := http.Get(h.url + "/hang") // returns once the headers are flushed
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	err = h.stop(t)
	if err == nil || !strings.Contains(err.Error(), "cut off: GET /hang") {
		t.Errorf("Run = %v; want the cut-off request named", err)
	}
}

func TestAbortKillsAtOnce(t *testing.T) {
	abort := make(chan struct{})
	h := supervise(t, fakeProgram(t, "hang:one", ""), &fakeBuilder{t: t}, func(s *Supervisor) {
		s.Abort = abort
		s.Grace = time.Hour
	})
	h.log.wait(t, "Ready in", 1)
	resp, err := http.Get(h.url + "/hang")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h.cancel()
	h.log.wait(t, "Stopping", 1)
	close(abort)
	select {
	case err := <-h.done:
		h.done <- err
		if err == nil || !strings.Contains(err.Error(), "stopped at once") {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Abort did not stop Run")
	}
}

// waitBody polls url, a bounded number of times, until its body holds want.
func waitBody(t *testing.T, url, want string) string {
	t.Helper()
	var body string
	for i := 0; i < 300; i++ {
		_, body = get(t, url)
		if strings.Contains(body, want) {
			return body
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never answered %q; last %q", url, want, body)
	return ""
}

// TestSwapNamesCutOffRequests: a request the old server is still serving
// when its grace runs out during a swap is cut off, and the terminal says
// which.
func TestSwapNamesCutOffRequests(t *testing.T) {
	h := supervise(t, fakeProgram(t, "hang:one", ""), &fakeBuilder{t: t, modes: []string{"serve:two"}}, func(s *Supervisor) {
		s.Grace = 200 * time.Millisecond
	})
	h.log.wait(t, "Ready in", 1)
	resp, err := http.Get(h.url + "/hang")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h.changes <- Change{Paths: []string{"a.go"}}
	h.log.wait(t, "cut off: GET /hang", 1)
}

// TestRefusalIsShown: a server that refuses to serve, for a reason it
// gives, is shown as refusing, not as a crash.
func TestRefusalIsShown(t *testing.T) {
	h := supervise(t, fakeProgram(t, "serve:one", ""), &fakeBuilder{t: t, modes: []string{"refuse:unknown app \"helo\""}}, nil)
	h.log.wait(t, "Ready in", 1)
	h.changes <- Change{Paths: []string{"a.go"}}
	h.log.wait(t, "Server refused to start", 1)
	waitBody(t, h.url, `unknown app "helo"`)
}

// TestAssetsReloadPagesWithoutABuild: a change of files the program reads at
// run time asks the running server to reload its pages, and builds nothing.
func TestAssetsReloadPagesWithoutABuild(t *testing.T) {
	h := supervise(t, fakeProgram(t, "count:one", ""), &fakeBuilder{t: t}, nil)
	h.log.wait(t, "Ready in", 1)
	h.changes <- Change{Assets: []string{"templates/page.html"}}
	h.log.wait(t, "templates/page.html changed: reloading the pages, no build", 1)
	waitBody(t, h.url, "one reloads=1")
	// Stylesheets alone are swapped in place: no page reload.
	h.changes <- Change{Assets: []string{"static/a.css", "static/b.css"}}
	h.log.wait(t, "static/a.css and 1 more file changed: reloading the stylesheets, no build", 1)
	if _, body := get(t, h.url); body != "one reloads=1" {
		t.Errorf("a stylesheet change reloaded the pages: %q", body)
	}
	if strings.Contains(h.log.String(), "Built in") {
		t.Errorf("an asset change built:\n%s", h.log)
	}
}

// TestSummarizeEscapesNames: a changed file's name reaches the terminal
// quoted when it holds control characters.
func TestSummarizeEscapesNames(t *testing.T) {
	for paths, want := range map[string]string{
		"a.go":                    "a.go",
		"a.go|b.go":               "a.go and 1 more file",
		"a.go|b.go|c.go":          "a.go and 2 more files",
		"x\x1b]0;PWN\x07.go|b.go": `"x\x1b]0;PWN\a.go" and 1 more file`,
		"café.go":                 "café.go",
	} {
		if got := summarize(strings.Split(paths, "|")); got != want {
			t.Errorf("%q: %q, want %q", paths, got, want)
		}
	}
}
