//go:build unix

package cmd

import (
	"bufio"
	"debug/elf"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	greeterpkg "github.com/wsgo/wsgo/internal/greeter"
)

// greeter is a small module that uses wsgo, built, in a temporary directory.
type greeter struct {
	dir, bin, tmp string
}

func newGreeter(t *testing.T) *greeter {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	g := &greeter{dir: t.TempDir(), tmp: t.TempDir()}
	g.bin = filepath.Join(t.TempDir(), "greeter")
	if err := greeterpkg.Write(g.dir, repo, "version 0"); err != nil {
		t.Fatal(err)
	}
	if err := greeterpkg.Go(g.dir, "build", "-o", g.bin, "."); err != nil {
		t.Fatal(err)
	}
	return g
}

func (g *greeter) write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(g.dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func messageGo(msg string) string { return greeterpkg.Message(msg) }

// command runs the greeter's program in its module, its builds' temporary
// files in the test's own directory.
func (g *greeter) command(args ...string) *exec.Cmd {
	c := exec.Command(g.bin, args...)
	c.Dir = g.dir
	c.Env = append(os.Environ(), "TMPDIR="+g.tmp)
	return c
}

// serve starts the greeter's `serve greet` with reload, in its module,
// with more flags if given.
func (g *greeter) serve(t *testing.T, flags ...string) *server {
	t.Helper()
	return g.serveIn(t, g.dir, nil, flags...)
}

// serveIn starts the greeter's `serve greet` in dir, a directory of its
// module, with more environment and flags.
func (g *greeter) serveIn(t *testing.T, dir string, env []string, flags ...string) *server {
	t.Helper()
	c := g.command(append([]string{"serve", "greet", "--port", "0"}, flags...)...)
	c.Dir = dir
	c.Env = append(c.Env, env...)
	s := startCmd(t, c)
	s.waitForOutput(t, "Ready in")
	return s
}

// leftovers lists what supervisors left in the temporary directory.
func (g *greeter) leftovers(t *testing.T) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(g.tmp, "wsgo-*"))
	return m
}

var pidLine = regexp.MustCompile(`pid (\d+)`)

// pids returns every server process id the supervisor reported.
func (s *server) pids() []int {
	var pids []int
	for _, m := range pidLine.FindAllStringSubmatch(s.stderr.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		pids = append(pids, n)
	}
	return pids
}

// alive reports whether pid runs (a zombie waiting to be reaped does not).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// waitForBody polls url, a bounded time, until its body contains want.
func waitForBody(t *testing.T, url string, wantStatus int, want string) string {
	t.Helper()
	var last string
	for i := 0; i < 600; i++ {
		code, body, err := greeterpkg.Fetch(http.DefaultClient, url)
		if err == nil && code == wantStatus && strings.Contains(body, want) {
			return body
		}
		last = fmt.Sprintf("%d %q %v", code, body, err)
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never answered %d with %q; last: %s", url, wantStatus, want, last)
	return ""
}

// TestReloadNeverDropsARequest edits the source five times while a client
// sends requests without pause: every request must get a 200, and each
// edit's text must appear.
func TestReloadNeverDropsARequest(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	s := g.serve(t)

	var (
		stop     atomic.Bool
		total    atomic.Int64
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
	)
	// Two clients: one keeps its connection alive, one dials anew each time.
	for _, fresh := range []bool{false, true} {
		wg.Add(1)
		go func(fresh bool) {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second}
			if fresh {
				client.Transport = &http.Transport{DisableKeepAlives: true}
			}
			deadline := time.Now().Add(3 * time.Minute)
			for i := 0; i < 500000 && !stop.Load() && time.Now().Before(deadline); i++ {
				code, body, err := greeterpkg.Fetch(client, s.url+"/")
				total.Add(1)
				if err != nil || code != 200 {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%d %q %v", code, body, err))
					mu.Unlock()
				}
			}
		}(fresh)
	}

	for i := 1; i <= 5; i++ {
		want := fmt.Sprintf("version %d", i)
		g.write(t, "message.go", messageGo(want))
		waitForBody(t, s.url+"/", 200, want)
	}
	stop.Store(true)
	wg.Wait()

	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed across 5 reloads; first: %s", len(failures), total.Load(), failures[0])
	}
	t.Logf("%d requests across 5 reloads, none failed", total.Load())
	if code := s.stop(t, os.Interrupt); code != 0 {
		t.Errorf("exit %d on Ctrl-C:\n%s", code, s.stderr)
	}
}

func TestReloadShowsBuildErrorsAndCrashes(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	s := g.serve(t)

	g.write(t, "message.go", "package main\n\nconst message = \n")
	body := waitForBody(t, s.url+"/", 500, "message.go:4")
	if !strings.Contains(body, "Build failed") {
		t.Errorf("error page: %q", body)
	}
	s.waitForOutput(t, "Build failed")

	g.write(t, "message.go", messageGo("fixed"))
	waitForBody(t, s.url+"/", 200, "fixed")

	g.write(t, "message.go", messageGo("crashing")+"\nfunc init() { panic(\"boom at start\") }\n")
	body = waitForBody(t, s.url+"/", 500, "boom at start")
	if !strings.Contains(body, "exited before it was ready") {
		t.Errorf("crash page: %q", body)
	}
	s.waitForOutput(t, "exited before it was ready")
	if n := strings.Count(s.stderr.String(), "panic: boom at start"); n != 1 {
		t.Errorf("the crash is told %d times in the terminal, want once:\n%s", n, s.stderr)
	}

	g.write(t, "message.go", messageGo("recovered"))
	waitForBody(t, s.url+"/", 200, "recovered")

	// Browsers get HTML with the position marked.
	g.write(t, "message.go", "package main\n\nconst message = \n")
	waitForBody(t, s.url+"/", 500, "message.go:4")
	req, _ := http.NewRequest("GET", s.url+"/", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`<mark>\S*message.go:4:\d+</mark>`).Match(html) {
		t.Errorf("HTML error page does not mark the position:\n%s", html)
	}
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d on SIGTERM:\n%s", code, s.stderr)
	}
}

// TestReloadLeavesNothingBehind stops the supervisor each way it can be
// stopped; no server it started may outlive it, nor any temporary binary.
func TestReloadLeavesNothingBehind(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			s := g.serve(t)
			want := "after " + sig.String()
			g.write(t, "message.go", messageGo(want))
			waitForBody(t, s.url+"/", 200, want)
			pids := s.pids()
			if len(pids) < 2 {
				t.Fatalf("saw %d server pids, want the first and the rebuilt one:\n%s", len(pids), s.stderr)
			}
			code := s.stop(t, sig)
			if sig != syscall.SIGKILL && code != 0 {
				t.Errorf("exit %d on %v:\n%s", code, sig, s.stderr)
			}
			waitGone(t, pids) // none outlives the supervisor
			if left := g.leftovers(t); len(left) > 0 && sig != syscall.SIGKILL {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// TestReloadRestartsAndRebuildsOnEnter: a server that dies mid-run is
// reported and replaced, and Enter in the terminal forces a rebuild.
func TestReloadRestartsAndRebuildsOnEnter(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	c := g.command("serve", "greet", "--port", "0")
	keys, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := startCmd(t, c)
	s.waitForOutput(t, "Ready in")
	first := s.pids()

	http.Get(s.url + "/exit") // the server exits mid-run
	s.waitForOutput(t, "stopped (exit status 3); rebuilding to restart it")
	waitForBody(t, s.url+"/", 200, "version 0")
	if len(s.pids()) <= len(first) {
		t.Fatalf("no new server after the crash:\n%s", s.stderr)
	}

	before := len(s.pids())
	io.WriteString(keys, "\n")
	s.waitForOutput(t, "Rebuilding and restarting, as asked")
	for i := 0; i < 600 && len(s.pids()) == before; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if len(s.pids()) == before {
		t.Fatalf("Enter did not rebuild:\n%s", s.stderr)
	}
	waitForBody(t, s.url+"/", 200, "version 0")
}

func TestReloadOffWhenTheSourceIsElsewhere(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	c := exec.Command(g.bin, "serve", "greet", "--port", "0")
	c.Dir = t.TempDir() // not inside the greeter's module
	s := startCmd(t, c)
	s.waitForOutput(t, "Reload is off: no source: module example.com/greeter is not at or above")
	waitForBody(t, s.url+"/", 200, "version 0")

	off := startServe(t, nil, "serve", "demo", "--port", "0", "--no-reload")
	waitForBody(t, off.url+"/", 200, "The request method was GET")
	if strings.Contains(off.stderr.String(), "Watching") || strings.Contains(off.stderr.String(), "Reload") {
		t.Errorf("--no-reload still reloads:\n%s", off.stderr)
	}
}

// TestNewWritesAnAppThatBuildsAndPasses runs wsgo new in a user's module.
func TestNewWritesAnAppThatBuildsAndPasses(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	for _, name := range []string{"widgets", "shop"} {
		c := exec.Command(wsgoBin, "new", name)
		c.Dir = g.dir
		if out, err := c.CombinedOutput(); err != nil || !strings.Contains(string(out), "wrote "+name+"/"+name+".go") {
			t.Fatalf("wsgo new %s: %v\n%s", name, err, out)
		}
	}
	if err := greeterpkg.Go(g.dir, "vet", "./..."); err != nil {
		t.Fatal(err)
	}
	if err := greeterpkg.Go(g.dir, "test", "./widgets/", "./shop/"); err != nil {
		t.Fatal(err)
	}
	c := exec.Command(wsgoBin, "new", "widgets")
	c.Dir = g.dir
	if out, err := c.CombinedOutput(); err == nil || !strings.Contains(string(out), `app "widgets" is already registered, by widgets/widgets.go`) {
		t.Errorf("second wsgo new widgets: %v\n%s", err, out)
	}
	c = exec.Command(wsgoBin, "new", "2fast")
	c.Dir = g.dir
	if out, _ := c.CombinedOutput(); c.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "use a Go identifier") {
		t.Errorf("wsgo new 2fast: exit %d\n%s", c.ProcessState.ExitCode(), out)
	}
}

// TestServeValidatesByDefault: serve checks apps against the contract
// unless told not to.
func TestServeValidatesByDefault(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	for _, tt := range []struct {
		args   []string
		status int
		want   string
	}{
		{nil, 500, `validate: app "greet": Content-Type is required`},
		{[]string{"--no-validate"}, 200, "version 0"},
	} {
		c := g.command(append([]string{"serve", "greet", "--port", "0", "--no-reload"}, tt.args...)...)
		s := startCmd(t, c)
		waitForBody(t, s.url+"/no-type", tt.status, tt.want)
	}
}

// TestReloadCancelsAnOutdatedBuild: a change during a build cancels it; only
// the newest source is built and served.
func TestReloadCancelsAnOutdatedBuild(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	s := g.serve(t)
	g.write(t, "message.go", messageGo("first"))
	s.waitForOutput(t, "message.go changed: building")
	g.write(t, "message.go", messageGo("second")) // while "first" builds
	waitForBody(t, s.url+"/", 200, "second")
	out := s.stderr.String()
	if changes, builds := strings.Count(out, "changed: building"), strings.Count(out, "Built in"); changes < 2 || builds != 1 {
		t.Errorf("%d changes and %d finished builds; want 2 or more and 1 (the first cancelled):\n%s", changes, builds, out)
	}
}

// TestSecondInterruptStopsAtOnce: Ctrl-C drains, a second Ctrl-C does not wait.
func TestSecondInterruptStopsAtOnce(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	c := g.command("serve", "greet", "--port", "0", "--grace", "5m")
	s := startCmd(t, c)
	s.waitForOutput(t, "Ready in")
	go http.Get(s.url + "/slow")
	s.waitForOutput(t, "slow request started")

	s.cmd.Process.Signal(os.Interrupt)
	s.waitForOutput(t, "Stopping: letting requests in flight finish")
	if code := s.stop(t, os.Interrupt); code != 1 {
		t.Errorf("exit %d after a second Ctrl-C, want 1 (requests were cut off)", code)
	}
	if !strings.Contains(s.stderr.String(), "stopped at once, as asked; cut off: GET /slow (running") {
		t.Errorf("the cut-off request is not named:\n%s", s.stderr)
	}
	waitGone(t, s.pids())
}

// TestSecondInterruptWithNothingInFlight: two quick Ctrl-Cs with no request
// in flight cut nothing off, and wsgo says so and exits 0.
func TestSecondInterruptWithNothingInFlight(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	c := g.command("serve", "greet", "--port", "0")
	s := startCmd(t, c)
	s.waitForOutput(t, "Ready in")
	s.cmd.Process.Signal(os.Interrupt)
	if code := s.stop(t, os.Interrupt); code != 0 {
		t.Errorf("exit %d after two Ctrl-Cs with nothing in flight, want 0:\n%s", code, s.stderr)
	}
	if out := s.stderr.String(); strings.Contains(out, "cut off") {
		t.Errorf("claims a cut-off:\n%s", out)
	}
}

func TestReloadOffWithoutTheGoCommand(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	c := exec.Command(g.bin, "serve", "greet", "--port", "0")
	c.Dir = g.dir
	c.Env = append(os.Environ(), "PATH="+t.TempDir()) // no go here
	s := startCmd(t, c)
	s.waitForOutput(t, "Reload is off: the go command is not on PATH")
	waitForBody(t, s.url+"/", 200, "version 0")
}

// TestRebuiltServersSkipDebugInfo: a rebuilt server is linked without
// DWARF, as go run links, unless --debug-info asks for it.
func TestRebuiltServersSkipDebugInfo(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	for i, flags := range [][]string{nil, {"--debug-info"}} {
		c := g.command(append([]string{"serve", "greet", "--port", "0"}, flags...)...)
		s := startCmd(t, c)
		s.waitForOutput(t, "Ready in")
		want := fmt.Sprintf("debug info %d", i)
		g.write(t, "message.go", messageGo(want))
		waitForBody(t, s.url+"/", 200, want)
		pids := s.pids()
		exe, err := elf.Open(fmt.Sprintf("/proc/%d/exe", pids[len(pids)-1]))
		if err != nil {
			t.Fatal(err)
		}
		hasDWARF := exe.Section(".debug_info") != nil
		exe.Close()
		if hasDWARF != (flags != nil) {
			t.Errorf("serve %v: the rebuilt server has DWARF: %v", flags, hasDWARF)
		}
		s.stop(t, syscall.SIGINT)
	}
}

// TestSaveWithoutChangeKeepsTheServer: a save that changes no code (a
// comment) builds the same program, and the running server goes on. (Only
// outside package main: the go command stamps main's own action id into
// the binary, so any edit there relinks.)
func TestSaveWithoutChangeKeepsTheServer(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	s := g.serve(t)
	os.Mkdir(filepath.Join(g.dir, "lib"), 0o755)
	g.write(t, "lib/lib.go", "package lib\n\nconst Text = \"from lib\"\n")
	g.write(t, "message.go", "package main\n\nimport \"example.com/greeter/lib\"\n\nconst message = lib.Text\n")
	waitForBody(t, s.url+"/", 200, "from lib")
	before := s.pids()
	// A comment that moves no line: line numbers are part of the program.
	g.write(t, "lib/lib.go", "package lib\n\nconst Text = \"from lib\" // what the greeter says\n")
	s.waitForOutput(t, "No change to the program")
	if after := s.pids(); len(after) != len(before) {
		t.Errorf("a comment started another server: pids %v, then %v", before, after)
	}
	waitForBody(t, s.url+"/", 200, "from lib")
	g.write(t, "lib/lib.go", "package lib\n\nconst Text = \"changed in lib\"\n")
	waitForBody(t, s.url+"/", 200, "changed in lib")
}

// TestReloadWatchesReplacedModules: a module replaced by a directory on
// disk is watched too, and an edit there reloads.
func TestReloadWatchesReplacedModules(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	lib := filepath.Join(t.TempDir(), "lib")
	os.MkdirAll(lib, 0o755)
	os.WriteFile(filepath.Join(lib, "go.mod"), []byte("module example.com/lib\n\ngo 1.25\n"), 0o644)
	os.WriteFile(filepath.Join(lib, "lib.go"), []byte("package lib\n\nconst Text = \"from the library\"\n"), 0o644)
	gomod, _ := os.ReadFile(filepath.Join(g.dir, "go.mod"))
	g.write(t, "go.mod", string(gomod)+"\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => "+lib+"\n")
	g.write(t, "message.go", "package main\n\nimport \"example.com/lib\"\n\nconst message = lib.Text\n")
	if err := greeterpkg.Go(g.dir, "build", "-o", g.bin, "."); err != nil {
		t.Fatal(err)
	}
	s := g.serve(t)
	rel, _ := filepath.Rel(g.dir, lib)
	if !strings.Contains(s.stderr.String(), " and "+rel) {
		t.Errorf("the banner does not say the library is watched:\n%s", s.stderr)
	}
	waitForBody(t, s.url+"/", 200, "from the library")
	os.WriteFile(filepath.Join(lib, "lib.go"), []byte("package lib\n\nconst Text = \"edited in the library\"\n"), 0o644)
	waitForBody(t, s.url+"/", 200, "edited in the library")
}

// TestOpenOnce: --open opens the browser once, at start, and never on a
// rebuild (a fake browser on $BROWSER counts the calls).
func TestOpenOnce(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	calls := filepath.Join(t.TempDir(), "calls")
	browser := filepath.Join(t.TempDir(), "browser")
	os.WriteFile(browser, []byte("#!/bin/sh\necho \"$1\" >> "+calls+"\n"), 0o755)
	c := g.command("serve", "greet", "--port", "0", "--open")
	c.Env = append(c.Env, "BROWSER="+browser)
	s := startCmd(t, c)
	s.waitForOutput(t, "Ready in")
	for i := 1; i <= 3; i++ {
		want := fmt.Sprintf("rebuild %d", i)
		g.write(t, "message.go", messageGo(want))
		waitForBody(t, s.url+"/", 200, want)
	}
	var got []byte
	for i := 0; i < 200 && len(got) == 0; i++ {
		got, _ = os.ReadFile(calls)
		if len(got) == 0 {
			time.Sleep(25 * time.Millisecond)
		}
	}
	if string(got) != s.url+"\n" {
		t.Errorf("the browser was opened with %q; want %q once", got, s.url)
	}
}

// TestTemplateEditReloadsPagesWithoutABuild: a template read at run time
// is an asset: its edit reloads the pages (the live-reload stream announces
// a new id) and builds nothing.
func TestTemplateEditReloadsPagesWithoutABuild(t *testing.T) {
	e2e(t)
	g := newGreeter(t)
	os.MkdirAll(filepath.Join(g.dir, "templates"), 0o755)
	g.write(t, "templates/page.html", "<p>first</p>")
	s := g.serve(t)
	resp, err := http.Get(s.url + "/__wsgo/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ids := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				ids <- id
			}
		}
		close(ids)
	}()
	first := <-ids
	before := len(s.pids())
	g.write(t, "templates/page.html", "<p>edited</p>")
	select {
	case next := <-ids:
		if next == first {
			t.Errorf("the stream announced the same id %q", next)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no reload announced:\n%s", s.stderr)
	}
	s.waitForOutput(t, "templates/page.html changed: reloading the pages, no build")
	if len(s.pids()) != before || strings.Count(s.stderr.String(), "changed: building") > 0 {
		t.Errorf("a template edit built or restarted:\n%s", s.stderr)
	}
}
