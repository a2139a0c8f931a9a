package cmd

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
)

// wsgoBin is the real binary, built once for the end-to-end tests.
var wsgoBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // no end-to-end test runs: no binary to build
	}
	dir, err := os.MkdirTemp("", "wsgo-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wsgoBin = filepath.Join(dir, "wsgo")
	build := exec.Command("go", "build", "-o", wsgoBin, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building wsgo:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `wsgo serve`.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *syncbuf.Buffer
	exited chan error
}

var runningOn = regexp.MustCompile(`Running on (http://\S+)`)

// startServe runs wsgo with args and waits, a bounded time, for its banner.
func startServe(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	c := exec.Command(wsgoBin, args...)
	c.Env = append(os.Environ(), env...)
	return startCmd(t, c)
}

// startCmd starts c, a wsgo serve, and waits a bounded time for its banner.
func startCmd(t *testing.T, c *exec.Cmd) *server {
	t.Helper()
	args := c.Args
	s := &server{cmd: c, stderr: &syncbuf.Buffer{}, exited: make(chan error, 1)}
	s.cmd.Stderr = s.stderr
	s.cmd.Stdout = s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.exited
	})
	// A user module's program is built before the banner: on a loaded
	// machine, with the race detector, that takes a while.
	for i := 0; i < 4800; i++ {
		if m := runningOn.FindStringSubmatch(s.stderr.String()); m != nil {
			s.url = m[1]
			return s
		}
		select {
		case err := <-s.exited:
			s.exited <- err
			t.Fatalf("wsgo %v exited before serving: %v\n%s", args, err, s.stderr)
		case <-time.After(25 * time.Millisecond):
		}
	}
	t.Fatalf("wsgo %v printed no banner:\n%s", args, s.stderr)
	return nil
}

// waitForOutput waits, a bounded time, for wsgo to print want: a minute,
// which a build or a Python import can take on a loaded machine.
func (s *server) waitForOutput(t *testing.T, want string) {
	t.Helper()
	for i := 0; i < 2400; i++ {
		if strings.Contains(s.stderr.String(), want) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Errorf("wsgo did not print %q:\n%s", want, s.stderr)
}

// stop sends sig and returns the exit code.
func (s *server) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	s.cmd.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("wsgo did not exit on %v:\n%s", sig, s.stderr)
	}
	s.exited <- nil // for Cleanup
	return s.cmd.ProcessState.ExitCode()
}

func TestServeDemo(t *testing.T) {
	e2e(t)
	const secret = "s3cret-value-that-must-not-leak"
	s := startServe(t, []string{"WSGO_TEST_SECRET=" + secret}, "serve", "demo", "--port", "0")
	resp, err := http.Get(s.url + "/get/prefix?ip=")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	want := "The request method was GET\nThe request path info was /get/prefix\nThe remote host was 127.0.0.1\nThe query string was ip=\n\n"
	if !strings.HasPrefix(string(body), want) {
		t.Fatalf("body does not start with the four lines and a blank line:\n%s", body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if resp.ContentLength != int64(len(body)) {
		t.Errorf("Content-Length %d for %d bytes", resp.ContentLength, len(body))
	}
	dump := strings.Split(strings.TrimSuffix(strings.TrimPrefix(string(body), want), "\n"), "\n")
	var keys []string
	for _, line := range dump {
		k, _, ok := strings.Cut(line, " = ")
		if !ok {
			t.Fatalf("dump line %q is not KEY = VALUE", line)
		}
		keys = append(keys, k)
	}
	if !slices.IsSorted(keys) {
		t.Errorf("dump not sorted: %v", keys)
	}
	for _, line := range []string{`PATH_INFO = "/get/prefix"`, `QUERY_STRING = "ip="`, `REQUEST_METHOD = "GET"`,
		`wsgi.version = (1, 0)`, `wsgi.multithread = true`, `wsgi.input = <*wsgi.input>`} {
		if !slices.Contains(dump, line) {
			t.Errorf("dump lacks %q", line)
		}
	}
	if strings.Contains(string(body), secret) || strings.Contains(string(body), "WSGO_TEST_SECRET") || slices.Contains(keys, "PATH") {
		t.Errorf("the process environment leaked into the environ:\n%s", body)
	}
	s.waitForOutput(t, `"GET /get/prefix?ip= HTTP/1.1" 200`)
	if code := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d on SIGTERM, want 0", code)
	}
}

func TestServeStopsOnInterrupt(t *testing.T) {
	e2e(t)
	s := startServe(t, nil, "serve", "demo", "--port", "0")
	if code := s.stop(t, os.Interrupt); code != 0 {
		t.Errorf("exit %d on Ctrl-C, want 0:\n%s", code, s.stderr)
	}
}

func TestServeWarnsWhenReachableFromTheNetwork(t *testing.T) {
	e2e(t)
	s := startServe(t, nil, "serve", "demo", "--host", "0.0.0.0", "--port", "0")
	if !strings.Contains(s.stderr.String(), "WARNING: this development server is reachable from the network") {
		t.Errorf("no warning:\n%s", s.stderr)
	}
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") {
		t.Errorf("banner URL %q should be one the user can open", s.url)
	}
	quiet := startServe(t, nil, "serve", "demo", "--port", "0")
	if strings.Contains(quiet.stderr.String(), "WARNING") {
		t.Errorf("warning on loopback:\n%s", quiet.stderr)
	}
}

// runWsgo runs wsgo to completion and returns its exit code and output.
func runWsgo(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	c := exec.Command(wsgoBin, args...)
	c.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	done := make(chan error, 1)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		c.Process.Kill()
		t.Fatalf("wsgo %v did not finish", args)
	}
	return c.ProcessState.ExitCode(), out.String()
}

func TestServeErrors(t *testing.T) {
	e2e(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := fmt.Sprint(busy.Addr().(*net.TCPAddr).Port)

	tests := []struct {
		args []string
		code int
		want []string
		env  []string
	}{
		{[]string{"serve", "demo", "--as=app"}, 1, []string{`WSGO_CONTROL_FD="-1" is not a descriptor a supervisor passes`}, []string{"WSGO_CONTROL_FD=-1"}},
		{[]string{"serve", "demo", "--as=error-page"}, 1, []string{"--as=error-page is for the processes wsgo serve starts itself"}, nil},
		{[]string{"serve", "demo", "--as=worker"}, 2, []string{`invalid --as "worker": want a role: "app" or "error-page"`}, nil},
		{[]string{"serve", "demo"}, 1, []string{"LISTEN_FDS=1, but descriptor 3 is not a listening socket"}, []string{"LISTEN_FDS=1"}},
		{[]string{"serve", "dmeo"}, 2, []string{`wsgo: unknown app "dmeo"; did you mean "demo"? The registered apps are demo`}, nil},
		{[]string{"serve", "zzzzzzzz"}, 2, []string{`unknown app "zzzzzzzz"; the registered apps are demo`}, nil},
		{[]string{"serve"}, 2, []string{"which app?", "Usage: wsgo serve APP", "Registered apps:", "demo"}, nil},
		{[]string{"serve", "demo", "other"}, 2, []string{"serve takes one app, got 2"}, nil},
		{[]string{"serve", "demo", "--port", "abc"}, 2, []string{`invalid --port "abc": want a whole number`, "wsgo serve --help"}, nil},
		{[]string{"serve", "demo", "--port", "70000"}, 2, []string{"invalid --port 70000"}, nil},
		{[]string{"serve", "demo", "--port", "0x50"}, 2, []string{`invalid --port "0x50": want a whole number`}, nil},
		{[]string{"serve", "demo", "--port", "1_000"}, 2, []string{`invalid --port "1_000": want a whole number`}, nil},
		{[]string{"serve", "demo", "--host", "bad host"}, 2, []string{`invalid --host "bad host"`}, nil},
		{[]string{"serve", "demo", "--host", "300.1.1.1"}, 2, []string{`invalid --host "300.1.1.1"`}, nil},
		{[]string{"serve", "demo", "--bogus"}, 2, []string{"unknown flag: --bogus"}, nil},
		{[]string{"serv", "demo"}, 2, []string{`unknown command "serv"; did you mean "serve"?`}, nil},
		{[]string{"serve", "demo", "--port", busyPort}, 1, []string{"port " + busyPort + " is in use; try --port "}, nil},
		{[]string{"serve", "demo", "--mount", "hello=hello"}, 2, []string{`mount prefix "hello" must start with /`}, nil},
		{[]string{"serve", "demo", "--mount", "/h=helo"}, 2, []string{`unknown app "helo"; did you mean "hello"?`}, nil},
		{[]string{"serve", "demo", "--mount", "/h=hello", "--mount", "/h/=demo"}, 2, []string{`mount prefix "/h" is given twice`}, nil},
		{[]string{"serve", "demo", "--mount", "/h"}, 2, []string{`invalid --mount "/h": want PREFIX=APP`}, nil},
		{[]string{"serve", "demo", "--grace", "0s"}, 2, []string{"invalid --grace 0s: want a positive duration"}, nil},
		{[]string{"serve", "demo", "--delay", "-1s"}, 2, []string{"invalid --delay -1s"}, nil},
		{[]string{"serve", "demo", "--delay", "soon"}, 2, []string{`invalid --delay "soon": want a duration such as 5s or 250ms`}, nil},
		{[]string{"serve", "demo", "--watch", "no/such/dir"}, 2, []string{"invalid --watch no/such/dir: no such file or directory"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out := runWsgo(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", code, tt.code, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestVersion(t *testing.T) {
	e2e(t)
	code, out := runWsgo(t, nil, "--version")
	if code != 0 || !strings.HasPrefix(out, "wsgo version ") {
		t.Errorf("%d %q", code, out)
	}
}

func TestColourOnlyOnATerminal(t *testing.T) {
	e2e(t)
	tests := []struct {
		name   string
		env    []string
		args   []string
		colour bool
	}{
		{"terminal", nil, nil, true},
		{"--no-color", nil, []string{"--no-color"}, false},
		{"NO_COLOR", []string{"NO_COLOR=1"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := serveOnTerminal(t, tt.env, append([]string{"serve", "demo", "--port", "0"}, tt.args...))
			if got := strings.Contains(out, "\x1b[1m * Running on"); got != tt.colour {
				t.Errorf("banner in bold: %v, want %v:\n%q", got, tt.colour, out)
			}
			if !strings.Contains(out, "Running on http://127.0.0.1:") {
				t.Errorf("no banner:\n%q", out)
			}
		})
	}
}

// serveOnTerminal runs wsgo with a pseudo-terminal as its standard error
// and returns what it wrote up to its banner.
func serveOnTerminal(t *testing.T, env, args []string) string {
	t.Helper()
	master, slave, err := openPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	c := exec.Command(wsgoBin, args...)
	c.Env = append(os.Environ(), env...)
	c.Stdout, c.Stderr = slave, slave
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	defer func() { c.Process.Kill(); c.Wait() }()

	out := &syncbuf.Buffer{}
	go io.Copy(out, master)
	for i := 0; i < 400; i++ {
		if strings.Contains(out.String(), "Press CTRL+C to quit") {
			return out.String()
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("no banner:\n%q", out)
	return ""
}

func TestServeEnvironmentDefaults(t *testing.T) {
	e2e(t)
	// WSGO_PORT stands in for --port: 0 picks a free port, not 8000.
	s := startServe(t, []string{"WSGO_PORT=0", "WSGO_HOST=127.0.0.1"}, "serve", "demo", "--no-reload")
	if strings.HasSuffix(s.url, ":8000") {
		t.Errorf("WSGO_PORT ignored: %s", s.url)
	}
	// A flag wins over the environment, which is then not even read.
	startServe(t, []string{"WSGO_PORT=not-a-port"}, "serve", "demo", "--no-reload", "--port", "0")

	code, out := runWsgo(t, []string{"WSGO_PORT=abc"}, "serve", "demo")
	if code != 2 || !strings.Contains(out, `invalid WSGO_PORT="abc": want a whole number`) {
		t.Errorf("exit %d: %s", code, out)
	}
}

func TestServeMounts(t *testing.T) {
	e2e(t)
	s := startServe(t, nil, "serve", "demo", "--mount", "/hello=hello", "--mount", "/echo/=demo", "--port", "0", "--no-reload")
	s.waitForOutput(t, `Serving wsgo app "hello" below /hello`)
	for _, tt := range []struct{ path, want string }{
		{"/hello/hello/Ada", "<h1>Hello, Ada!</h1>"},
		{"/hello/api/hello/Ada", `{"hello":"Ada"}`},
		{"/echo/x%2Fy", `SCRIPT_NAME = "/echo"` + "\n"},
		{"/echo/x%2Fy", `PATH_INFO = "/x/y"`},
		{"/echo", `PATH_INFO = ""`},
		{"/helloworld", `SCRIPT_NAME = ""` + "\n"},
		{"/helloworld", `PATH_INFO = "/helloworld"`},
		{"/anything", "The request path info was /anything"},
	} {
		resp, err := http.Get(s.url + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: %d, want %q in:\n%s", tt.path, resp.StatusCode, tt.want, body)
		}
	}
}

// e2e marks an end-to-end test: it runs the real binary, the go command, a
// browser or nginx, and is skipped under -short, the loop while editing.
func e2e(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped under -short")
	}
}
