//go:build unix

package cmd

import (
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	greeterpkg "github.com/wsgo/wsgo/internal/greeter"
	"github.com/wsgo/wsgo/internal/syncbuf"
)

// userModule is a module outside the repository that requires wsgo (the
// checkout at repo, through a replace line), with no main package, in
// which the installed wsgo (wsgoBin, on PATH) runs.
type userModule struct {
	dir  string
	wsgo string // the installed wsgo
	path string // PATH with the installed wsgo first
}

func newUserModule(t *testing.T, repo string) *userModule {
	t.Helper()
	if repo == "" {
		abs, err := filepath.Abs("..")
		if err != nil {
			t.Fatal(err)
		}
		repo = abs
	}
	m := &userModule{dir: t.TempDir()}
	bin := t.TempDir()
	if err := os.Symlink(wsgoBin, filepath.Join(bin, "wsgo")); err != nil {
		t.Fatal(err)
	}
	m.wsgo = filepath.Join(bin, "wsgo")
	m.path = bin + string(os.PathListSeparator) + os.Getenv("PATH")
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	m.write(t, "go.mod", fmt.Sprintf("module example.com/site\n\ngo 1.25\n\nrequire github.com/wsgo/wsgo v0.0.0\n\nreplace github.com/wsgo/wsgo => %s\n", repo))
	m.write(t, "go.sum", string(sum))
	// What a user runs to start using wsgo.
	if err := greeterpkg.Go(m.dir, "get", "github.com/wsgo/wsgo@v0.0.0"); err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *userModule) write(t *testing.T, name, content string) {
	t.Helper()
	p := filepath.Join(m.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// command runs the installed wsgo in the module, as a user would.
func (m *userModule) command(args ...string) *exec.Cmd {
	c := exec.Command(m.wsgo, args...)
	c.Args[0] = "wsgo"
	c.Dir = m.dir
	c.Env = append(os.Environ(), "PATH="+m.path, "NO_COLOR=1")
	return c
}

func (m *userModule) run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	c := m.command(args...)
	out, err := c.CombinedOutput()
	if err != nil && c.ProcessState == nil {
		t.Fatal(err)
	}
	return c.ProcessState.ExitCode(), string(out)
}

// files lists the module's files, to show that wsgo wrote nothing there.
func (m *userModule) files(t *testing.T) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(m.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(m.dir, p)
			files = append(files, rel)
		}
		return nil
	})
	return files
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// TestYourOwnModule is README's "your own project", end to end: in a module
// with no main package, the installed wsgo writes an app named hello,
// lists, serves (a save reloads it, with no failed request), and builds a
// production binary that serves the same bytes; it writes nothing else.
func TestYourOwnModule(t *testing.T) {
	e2e(t)
	m := newUserModule(t, "")
	if code, out := m.run(t, "new", "hello"); code != 0 || !strings.Contains(out, "wrote hello/hello.go") {
		t.Fatalf("wsgo new hello: exit %d\n%s", code, out)
	}
	if err := greeterpkg.Go(m.dir, "test", "./..."); err != nil {
		t.Fatalf("the test wsgo new wrote fails: %v", err)
	}
	before := m.files(t)

	code, out := m.run(t, "routes")
	if code != 0 || !strings.Contains(out, "hello.") || strings.Contains(out, "demo") {
		t.Errorf("wsgo routes: exit %d; want the module's hello app only:\n%s", code, out)
	}

	s := startCmd(t, m.command("serve", "hello", "--port", "0"))
	s.waitForOutput(t, "Ready in")
	waitForBody(t, s.url+"/", 200, "hello")
	var failed, total atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		client := &http.Client{Timeout: 30 * time.Second}
		for i := 0; i < 1_000_000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if code, _, err := greeterpkg.Fetch(client, s.url+"/"); err != nil || code != 200 {
				failed.Add(1)
			}
			total.Add(1)
		}
	}()
	src, err := os.ReadFile(filepath.Join(m.dir, "hello", "hello.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), `"hello: hello\n"`) {
		t.Fatalf("hello.go does not say what the test edits:\n%s", src)
	}
	m.write(t, "hello/hello.go", strings.ReplaceAll(string(src), `"hello: hello\n"`, `"hello: edited\n"`))
	waitForBody(t, s.url+"/", 200, "hello: edited")
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed across the reload", n, total.Load())
	}
	if code := s.stop(t, syscall.SIGINT); code != 0 {
		t.Errorf("serve: exit %d on Ctrl-C\n%s", code, s.stderr)
	}
	m.write(t, "hello/hello.go", string(src))

	// The production binary and serve --no-reload send the same bytes.
	noReload := startCmd(t, m.command("serve", "hello", "--port", "0", "--no-reload"))
	noReload.waitForOutput(t, "Ready in")
	dev := waitForBody(t, noReload.url+"/", 200, "hello")
	if code, out := m.run(t, "build", "-o", filepath.Join(t.TempDir(), "site")); code != 0 {
		t.Fatalf("wsgo build: exit %d\n%s", code, out)
	}
	if slices.Equal(before, m.files(t)) == false {
		t.Errorf("wsgo wrote into the module: before %v, after %v", before, m.files(t))
	}
	app := filepath.Join(t.TempDir(), "app")
	if code, out := m.run(t, "build", "-o", app); code != 0 || !strings.Contains(out, "serves hello") {
		t.Fatalf("wsgo build: exit %d\n%s", code, out)
	}
	port := freePort(t)
	prod := exec.Command(app, "--port", port)
	prod.Stderr = &syncbuf.Buffer{}
	if err := prod.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { prod.Process.Signal(syscall.SIGTERM); prod.Wait() }()
	built := waitForBody(t, "http://127.0.0.1:"+port+"/", 200, "hello")
	if built != dev {
		t.Errorf("the built server sends\n%q\nand serve --no-reload\n%q", built, dev)
	}
}

// TestYourOwnModuleMessages: each way of getting it wrong says what to do.
func TestYourOwnModuleMessages(t *testing.T) {
	e2e(t)
	m := newUserModule(t, "")
	for _, tt := range []struct {
		name string
		dir  string
		args []string
		code int
		want string
	}{
		{"outside any module", t.TempDir(), []string{"serve", "greet"}, 2, "there is no Go module here"},
		{"no app yet", m.dir, []string{"serve", "greet", "--port", "0"}, 2, "has no package that imports github.com/wsgo/wsgo/wsgi yet"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := m.command(tt.args...)
			c.Dir = tt.dir
			out, _ := c.CombinedOutput()
			if c.ProcessState.ExitCode() != tt.code || !strings.Contains(string(out), tt.want) {
				t.Errorf("exit %d, want %d and %q:\n%s", c.ProcessState.ExitCode(), tt.code, tt.want, out)
			}
		})
	}

	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n\ngo 1.25\n"), 0o644)
	c := m.command("serve", "greet")
	c.Dir = other
	if out, _ := c.CombinedOutput(); c.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), "go get github.com/wsgo/wsgo") {
		t.Errorf("a module without wsgo: exit %d\n%s", c.ProcessState.ExitCode(), out)
	}

	m.run(t, "new", "blog")
	// go mod tidy drops wsgo's own requirements, which only wsgo's command
	// line needs: the module's program builds all the same.
	if err := greeterpkg.Go(m.dir, "mod", "tidy"); err != nil {
		t.Fatal(err)
	}
	if code, out := m.run(t, "routes"); code != 0 || !strings.Contains(out, "blog") {
		t.Fatalf("routes after go mod tidy: exit %d\n%s", code, out)
	}
	code, out := m.run(t, "serve", "blgo", "--port", "0")
	if code != 2 || !strings.Contains(out, `unknown app "blgo"; did you mean "blog"?`) || !strings.Contains(out, "registered by the packages ./blog") {
		t.Errorf("unknown app: exit %d\n%s", code, out)
	}
	// A package registering a name twice: the program panics as it starts,
	// and wsgo build says so and writes nothing.
	m.write(t, "dup/dup.go", "package dup\n\nimport \"github.com/wsgo/wsgo/wsgi\"\n\nfunc init() { wsgi.Register(\"blog\", wsgi.AppFunc(nil)) }\n")
	out1 := filepath.Join(t.TempDir(), "site")
	code, out = m.run(t, "build", "-o", out1)
	if _, err := os.Stat(out1); code != 1 || err == nil || !strings.Contains(out, "panic") {
		t.Errorf("build of a program that panics: exit %d, written: %v\n%s", code, err == nil, out)
	}
	// wsgo routes runs the program, which panics: a failure (1), not a
	// usage error, though Go exits 2 after a panic.
	if code, out := m.run(t, "routes"); code != 1 || !strings.Contains(out, "panic: ") || !strings.Contains(out, "panicked (above)") {
		t.Errorf("routes of a program that panics: exit %d\n%s", code, out)
	}
	os.Remove(filepath.Join(m.dir, "dup", "dup.go"))
	// A dependency the module does not require is not fetched behind its back.
	m.write(t, "blog/md.go", "package blog\n\nimport _ \"example.com/nosuchmodule/pkg\"\n")
	if code, out := m.run(t, "routes"); code != 1 || !strings.Contains(out, "no required module provides package example.com/nosuchmodule/pkg") {
		t.Errorf("an import go.mod lacks: exit %d\n%s", code, out)
	}
	os.Remove(filepath.Join(m.dir, "blog", "md.go"))
	m.write(t, "blog/broken.go", "package blog\n\nvar broken = \n")
	code, out = m.run(t, "routes")
	if code != 1 || !strings.Contains(out, "blog/broken.go:") || !strings.Contains(out, "do not build") {
		t.Errorf("routes of apps that do not build: exit %d\n%s", code, out)
	}
}

// TestNewAppPackagesAreSeen: a package of apps added while wsgo serves is
// part of the next build (here one whose init panics, which shows).
func TestNewAppPackagesAreSeen(t *testing.T) {
	e2e(t)
	m := newUserModule(t, "")
	m.run(t, "new", "hello")
	s := startCmd(t, m.command("serve", "hello", "--port", "0"))
	s.waitForOutput(t, "Ready in")
	m.write(t, "boom/boom.go", "package boom\n\nimport \"github.com/wsgo/wsgo/wsgi\"\n\nvar _ = wsgi.Names\n\nfunc init() { panic(\"boom: a new package\") }\n")
	s.waitForOutput(t, "boom: a new package")
	waitForBody(t, s.url+"/", 500, "boom: a new package")
}

// TestYourOwnModuleVersionMismatch: a module whose copy of wsgo speaks
// another reload protocol than the installed wsgo gets one sentence that
// says which and how to fix it, instead of a server that misbehaves.
func TestYourOwnModuleVersionMismatch(t *testing.T) {
	e2e(t)
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "wsgo")
	ls, err := exec.Command("git", "-C", repo, "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v", err)
	}
	for _, f := range strings.Fields(string(ls)) {
		data, err := os.ReadFile(filepath.Join(repo, f))
		if err != nil {
			continue
		}
		if f == "reload/control/protocol.go" {
			data = []byte(strings.Replace(string(data), "const Protocol = 1", "const Protocol = 99", 1))
		}
		os.MkdirAll(filepath.Dir(filepath.Join(other, f)), 0o755)
		os.WriteFile(filepath.Join(other, f), data, 0o644)
	}
	m := newUserModule(t, other)
	m.run(t, "new", "greet")
	s := startCmd(t, m.command("serve", "greet", "--port", "0"))
	s.waitForOutput(t, "Server refused to start")
	s.waitForOutput(t, "the server speaks reload protocol 99 and this wsgo speaks 1")
	body := waitForBody(t, s.url+"/", 500, "reload protocol 99")
	if !strings.Contains(body, "go get github.com/wsgo/wsgo@") {
		t.Errorf("the error page does not say how to fix it:\n%s", body)
	}
}

// TestYourOwnWorkspace: in a go.work workspace, an edit of another module
// of the workspace reloads the app that uses it.
func TestYourOwnWorkspace(t *testing.T) {
	e2e(t)
	m := newUserModule(t, "")
	root := filepath.Dir(m.dir)
	lib := filepath.Join(root, "lib")
	os.MkdirAll(lib, 0o755)
	os.WriteFile(filepath.Join(lib, "go.mod"), []byte("module example.com/lib\n\ngo 1.25\n"), 0o644)
	os.WriteFile(filepath.Join(lib, "lib.go"), []byte("package lib\n\nconst Text = \"from the workspace\"\n"), 0o644)
	repo, _ := filepath.Abs("..")
	// A workspace takes its replacements from go.work alone.
	os.WriteFile(filepath.Join(root, "go.work"), []byte(fmt.Sprintf("go 1.25.0\n\nuse (\n\t./%s\n\t./lib\n)\n\nreplace github.com/wsgo/wsgo => %s\n", filepath.Base(m.dir), repo)), 0o644)
	m.write(t, "greet/greet.go", `package greet

import (
	"iter"

	"example.com/lib"
	"github.com/wsgo/wsgo/wsgi"
)

func init() {
	wsgi.Register("greet", wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return wsgi.BodyString(lib.Text)
	}))
}
`)
	s := startCmd(t, m.command("serve", "greet", "--port", "0"))
	s.waitForOutput(t, "Ready in")
	if !strings.Contains(s.stderr.String(), " and ../lib") {
		t.Errorf("the banner does not say the workspace's other module is watched:\n%s", s.stderr)
	}
	waitForBody(t, s.url+"/", 200, "from the workspace")
	os.WriteFile(filepath.Join(lib, "lib.go"), []byte("package lib\n\nconst Text = \"edited in the workspace\"\n"), 0o644)
	waitForBody(t, s.url+"/", 200, "edited in the workspace")
}

// TestUpgradeOnHUP: a built server run with -upgrade-on-hup takes SIGHUP to
// start the program now on disk on the same socket and drain the old one,
// with no failed request under a steady client; a program that does not
// start leaves the old one serving; SIGTERM drains and exits 0.
func TestUpgradeOnHUP(t *testing.T) {
	e2e(t)
	m := newUserModule(t, "")
	m.run(t, "new", "hello")
	app := filepath.Join(t.TempDir(), "app")
	if code, out := m.run(t, "build", "-o", app); code != 0 {
		t.Fatalf("wsgo build: exit %d\n%s", code, out)
	}
	port := freePort(t)
	log := &syncbuf.Buffer{}
	prod := exec.Command(app, "-upgrade-on-hup", "-port", port)
	prod.Stderr = log
	if err := prod.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- prod.Wait() }()
	defer func() {
		prod.Process.Kill()
		<-exited
	}()
	url := "http://127.0.0.1:" + port + "/"
	waitForBody(t, url, 200, "hello: hello")
	// Servers run from copies: a signal sent by the program's name reaches
	// the supervisor alone.
	for _, pid := range (&server{stderr: log}).pids() {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); exe == app {
			t.Errorf("server pid %d runs %s itself", pid, app)
		}
	}

	var failed, total atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, fresh := range []bool{false, true} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: fresh}}
			for i := 0; i < 1_000_000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if code, _, err := greeterpkg.Fetch(client, url); err != nil || code != 200 {
					failed.Add(1)
				}
				total.Add(1)
			}
		}()
	}
	src, _ := os.ReadFile(filepath.Join(m.dir, "hello", "hello.go"))
	m.write(t, "hello/hello.go", strings.ReplaceAll(string(src), `"hello: hello\n"`, `"hello: upgraded\n"`))
	if code, out := m.run(t, "build", "-o", app); code != 0 {
		t.Fatalf("wsgo build: exit %d\n%s", code, out)
	}
	prod.Process.Signal(syscall.SIGHUP)
	waitForBody(t, url, 200, "hello: upgraded")

	// A program that does not start: the old one goes on.
	broken := app + ".broken"
	os.WriteFile(broken, []byte("#!/bin/sh\necho cannot start >&2\nexit 1\n"), 0o755)
	os.Rename(broken, app)
	prod.Process.Signal(syscall.SIGHUP)
	for i := 0; i < 600 && !strings.Contains(log.String(), "the running server goes on"); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "the running server goes on") {
		t.Errorf("a program that cannot start is not reported:\n%s", log)
	}
	waitForBody(t, url, 200, "hello: upgraded")
	close(stop)
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed across the upgrades", n, total.Load())
	}
	prod.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("SIGTERM: %v\n%s", err, log)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit on SIGTERM:\n%s", log)
	}
}

// TestSocketActivation: systemd's own socket activation (the listening
// socket passed as fd 3, LISTEN_FDS=1) serves a built program and wsgo
// serve alike.
func TestSocketActivation(t *testing.T) {
	e2e(t)
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		if os.Getenv("WSGO_NO_SKIP") != "" {
			t.Fatal("systemd-socket-activate is not installed (apt-get install systemd)")
		}
		t.Skip("systemd-socket-activate is not installed")
	}
	m := newUserModule(t, "")
	m.run(t, "new", "hello")
	app := filepath.Join(t.TempDir(), "app")
	if code, out := m.run(t, "build", "-o", app); code != 0 {
		t.Fatalf("wsgo build: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{app}, {wsgoBin, "serve", "demo"}} {
		port := freePort(t)
		c := exec.Command(activate, append([]string{"-l", "127.0.0.1:" + port}, args...)...)
		c.Dir = m.dir // a module of apps: socket activation still serves what it was given
		out := &syncbuf.Buffer{}
		c.Stdout, c.Stderr = out, out
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		// The program starts at the first connection; the socket is there at once.
		want := "hello: hello"
		if len(args) > 1 {
			want = "The request method was GET"
		}
		if body := waitForBody(t, "http://127.0.0.1:"+port+"/", 200, want); body == "" {
			t.Logf("output: %s", out)
		}
		c.Process.Signal(syscall.SIGTERM)
		if err := c.Wait(); err != nil {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
}

// TestGoModEditWhileServing: a requirement added to go.mod while wsgo serves
// is in the next build (the go.mod copy follows the module's own).
func TestGoModEditWhileServing(t *testing.T) {
	e2e(t)
	m := newUserModule(t, "")
	m.run(t, "new", "hello")
	s := startCmd(t, m.command("serve", "hello", "--port", "0"))
	s.waitForOutput(t, "Ready in")
	lib := filepath.Join(t.TempDir(), "lib")
	os.MkdirAll(lib, 0o755)
	os.WriteFile(filepath.Join(lib, "go.mod"), []byte("module example.com/lib\n\ngo 1.25\n"), 0o644)
	os.WriteFile(filepath.Join(lib, "lib.go"), []byte("package lib\n\nconst Text = \"hello: from lib\\n\"\n"), 0o644)
	gomod, _ := os.ReadFile(filepath.Join(m.dir, "go.mod"))
	m.write(t, "go.mod", string(gomod)+"\nrequire example.com/lib v0.0.0\n\nreplace example.com/lib => "+lib+"\n")
	src, _ := os.ReadFile(filepath.Join(m.dir, "hello", "hello.go"))
	edited := strings.Replace(string(src), `"hello: hello\n"`, "lib.Text", 1)
	edited = strings.Replace(edited, "import (\n", "import (\n\t\"example.com/lib\"\n", 1)
	m.write(t, "hello/hello.go", edited)
	waitForBody(t, s.url+"/", 200, "hello: from lib")
}
