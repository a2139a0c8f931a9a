//go:build unix

package cmd

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/internal/testkit"
)

// pyWhoami is the Python twin of whoamiApp: which build it is, what it was
// told of its client, and its worker's pid. /slow waits for a line on the
// named pipe GATE; /fail raises; /stream yields 64 KB chunks for a long
// time, and notes its close() in the file CLOSED; /upload reads its body.
// Every request is noted in the file SEEN, as it reaches the app.
const pyWhoami = `import os

BUILD = 'build-1'
HERE = os.path.dirname(os.path.abspath(__file__))


def note(name, line):
    with open(os.path.join(HERE, name), 'a') as f:
        f.write(line + '\n')


class Stream:
    def __iter__(self):
        for _ in range(100000):
            yield b'x' * 65536

    def close(self):
        note('CLOSED', 'closed')


def app(environ, start_response):
    path = environ['PATH_INFO']
    note('SEEN', path)
    if path == '/slow':
        with open(os.path.join(HERE, 'GATE')) as f:
            f.readline()
    if path == '/fail':
        raise ValueError('a secret the client must not see')
    if path == '/stream':
        start_response('200 OK', [('Content-Type', 'application/octet-stream')])
        return Stream()
    if path == '/echo':
        size = len(environ['wsgi.input'].read())
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'read %d' % size]
    if path == '/upload':
        first = environ['wsgi.input'].read(5)
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'first=' + first]
    body = '%s addr=%s scheme=%s host=%s id=%s instance=%s pid=%d\n' % (
        BUILD, environ['REMOTE_ADDR'], environ['wsgi.url_scheme'],
        environ.get('HTTP_HOST', ''), environ.get('wsgo.request_id', ''),
        os.environ.get('INSTANCE', ''), os.getpid())
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [body.encode()]
`

// pyBuild is pyWhoami as build n.
func pyBuild(n int) string {
	return strings.Replace(pyWhoami, "'build-1'", fmt.Sprintf("'build-%d'", n), 1)
}

// deployPy puts content in dir/app.py by a rename, as a deploy should.
func deployPy(t *testing.T, dir, content string) {
	t.Helper()
	testkit.WriteFile(t, filepath.Join(dir, "app.py.new"), content)
	if err := os.Rename(filepath.Join(dir, "app.py.new"), filepath.Join(dir, "app.py")); err != nil {
		t.Fatal(err)
	}
}

// A runInstance is a running wsgo run.
type runInstance struct {
	*prodInstance
	exited <-chan struct{} // closed once it has exited
}

// startRun runs wsgo run with args in dir, in a process group of its own,
// and waits until it serves on port; it is killed when the test ends.
func startRun(t *testing.T, dir, port string, args ...string) *runInstance {
	t.Helper()
	return startRunEnv(t, dir, port, nil, args...)
}

// startRunEnv is startRun with env added to the environment.
func startRunEnv(t *testing.T, dir, port string, env []string, args ...string) *runInstance {
	t.Helper()
	in := &runInstance{prodInstance: &prodInstance{port: port, log: &syncbuf.Buffer{}}}
	in.cmd = exec.Command(wsgoBin, append([]string{"run"}, args...)...)
	in.cmd.Dir = dir
	in.cmd.Env = append(os.Environ(), env...)
	in.cmd.Stdout, in.cmd.Stderr = in.log, in.log
	in.exited = startGroup(t, in.cmd, in.log, "wsgo run on "+port)
	waitForBody(t, "http://127.0.0.1:"+port+"/", 200, "build-")
	return in
}

// waitForLog waits, a bounded time, until the instance's log holds want.
func (in *prodInstance) waitForLog(t *testing.T, want string) {
	t.Helper()
	for i := 0; i < 1200 && !strings.Contains(in.log.String(), want); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(in.log.String(), want) {
		t.Fatalf("the log never said %q:\n%s", want, in.log)
	}
}

// pidOf returns the worker pid a whoami body names.
func pidOf(t *testing.T, body string) int {
	t.Helper()
	_, s, _ := strings.Cut(strings.TrimSpace(body), " pid=")
	pid, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("no pid in %q", body)
	}
	return pid
}

// TestRunProduction: wsgo run serves a Python app in production: a failing
// app costs its client a bare 500 and the traceback goes to the log; a
// worker killed in the middle of a request costs that request a 502 at
// once, logged with its request id, and another worker serves the next;
// SIGHUP without -upgrade-on-hup does not stop it.
func TestRunProduction(t *testing.T) {
	needPython(t)
	dir := testkit.Tree(t, map[string]string{"app.py": pyWhoami})
	if err := syscall.Mkfifo(filepath.Join(dir, "GATE"), 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	port := freePort(t)
	in := startRun(t, dir, port, "app.py:app", "-port", port, "-workers", "1", "-threads", "2")
	url := "http://127.0.0.1:" + port

	code, body, err := fetchBody(http.DefaultClient, url+"/fail")
	if err != nil || code != 500 || body != "500 Internal Server Error\n" {
		t.Errorf("/fail: %d %q %v; want the bare 500", code, body, err)
	}
	in.waitForLog(t, "ValueError: a secret the client must not see")

	_, body, _ = fetchBody(http.DefaultClient, url+"/")
	pid := pidOf(t, body)
	done := make(chan string, 1)
	go func() {
		code, body, err := fetchBody(&http.Client{Timeout: time.Minute}, url+"/slow", "X-Request-Id", "killed-1")
		done <- fmt.Sprintf("%d %q %v", code, body, err)
	}()
	// The request is in the app once it has opened the pipe to read.
	gate, err := os.OpenFile(filepath.Join(dir, "GATE"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer gate.Close()
	syscall.Kill(pid, syscall.SIGKILL)
	select {
	case got := <-done:
		if want := `502 "502 Bad Gateway\n" <nil>`; got != want {
			t.Errorf("the request whose worker was killed: %s, want %s", got, want)
		}
	case <-time.After(time.Minute):
		t.Fatal("the request whose worker was killed hangs")
	}
	in.waitForLog(t, "answered 502 Bad Gateway")
	if !strings.Contains(in.log.String(), "GET /slow (request id killed-1)") {
		t.Errorf("the 502 is not logged with its request:\n%s", in.log)
	}
	body = waitForBody(t, url+"/", 200, "build-1")
	if pidOf(t, body) == pid {
		t.Errorf("the killed worker %d still serves", pid)
	}

	// Without -upgrade-on-hup, SIGHUP (gunicorn's reload) is refused with a
	// warning, and the program goes on serving.
	in.cmd.Process.Signal(syscall.SIGHUP)
	in.waitForLog(t, "WARN SIGHUP ignored: this program upgrades on SIGHUP only when started with -upgrade-on-hup")
	waitForBody(t, url+"/", 200, "build-1")
}

// TestRunUpgradeOnHUP: under -upgrade-on-hup and a steady client, SIGHUP
// starts wsgo run again on the code now on disk and swaps once it has
// imported the app; a deploy whose import fails is logged at ERROR and the
// old code goes on serving; workers recycled by -max-requests meanwhile;
// and not one request fails. SIGTERM drains and exits 0.
func TestRunUpgradeOnHUP(t *testing.T) {
	needPython(t)
	dir := testkit.Tree(t, map[string]string{"app.py": pyBuild(1)})
	port := freePort(t)
	in := startRun(t, dir, port, "app.py:app", "-port", port, "-workers", "2", "-threads", "2",
		"-max-requests", "40", "-max-requests-jitter", "10", "-log-format", "json", "-upgrade-on-hup")
	url := "http://127.0.0.1:" + port + "/"
	client := startClient(url)
	client.waitFor(t, 50)

	deployPy(t, dir, pyBuild(2))
	in.cmd.Process.Signal(syscall.SIGHUP)
	waitForBody(t, url, 200, "build-2")
	client.waitFor(t, 50)

	deployPy(t, dir, "import a_module_not_installed\n"+pyBuild(3))
	in.cmd.Process.Signal(syscall.SIGHUP)
	in.waitForLog(t, `"level":"ERROR","msg":"Server exited before it was ready (exit status 1); the running server goes on`)
	if !strings.Contains(in.log.String(), `"level":"ERROR","msg":"app.py:app could not start`) ||
		!strings.Contains(in.log.String(), "No module named 'a_module_not_installed'") {
		t.Errorf("the failed import is not logged at ERROR:\n%s", in.log)
	}
	client.waitFor(t, 50)

	deployPy(t, dir, pyBuild(4))
	in.cmd.Process.Signal(syscall.SIGHUP)
	waitForBody(t, url, 200, "build-4")
	client.waitFor(t, 50)
	client.end(t, "upgrades of a Python app")
	if client.bodies["build-3"] > 0 {
		t.Errorf("the build that could not import served: %v", client.bodies)
	}
	in.waitForLog(t, "(max requests)")
	checkJSONLog(t, in.log.String(), "")

	in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
		if code := in.cmd.ProcessState.ExitCode(); code != 0 {
			t.Errorf("SIGTERM: exit %d", code)
		}
	case <-time.After(time.Minute):
		t.Fatal("no exit on SIGTERM")
	}
}

// seen returns the paths that reached the app, as it noted them.
func seen(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "SEEN"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// rawConn opens a connection to addr whose every wait is bounded.
func rawConn(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(time.Minute))
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRunHostileClients: the clients Go's server is hardened against never
// reach the Python app nor hold its one thread: a request smuggled behind
// Content-Length and Transfer-Encoding, slow headers, huge headers, bodies
// that never come or trickle in, a client that stops reading a stream; a
// client that goes away in the middle of a response frees the thread, and
// the body's close() is called; a large request body is streamed to the
// app as the client sends it. Between each, the one thread
// answers at once.
func TestRunHostileClients(t *testing.T) {
	needPython(t)
	dir := testkit.Tree(t, map[string]string{"app.py": pyWhoami})
	port := freePort(t)
	in := startRun(t, dir, port, "app.py:app", "-port", port, "-workers", "1", "-threads", "1", "-read-timeout", "1m", "-write-timeout", "2s", "-grace", "2m")
	addr := "127.0.0.1:" + port
	free := func(what string) {
		t.Helper()
		if code, body, err := fetchBody(&http.Client{Timeout: 20 * time.Second}, "http://"+addr+"/free"); err != nil || code != 200 {
			t.Fatalf("after %s, the app's one thread does not answer: %d %q %v", what, code, body, err)
		}
	}

	t.Run("smuggling", func(t *testing.T) {
		c := rawConn(t, addr)
		fmt.Fprintf(c, "POST /front HTTP/1.1\r\nHost: x\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"+
			"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(resp); !strings.HasPrefix(body, "build-1 ") {
			t.Errorf("the request itself: %d %q", resp.StatusCode, body)
		}
		if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 {
			t.Errorf("after a request with both framings, the connection stays open: %q %v", rest, err)
		}
		free("smuggling")
		if strings.Contains(seen(t, dir), "/smuggled") {
			t.Errorf("the smuggled request reached the app:\n%s", seen(t, dir))
		}
	})

	t.Run("slow and huge headers", func(t *testing.T) {
		for range 20 {
			fmt.Fprintf(rawConn(t, addr), "GET /slowloris HTTP/1.1\r\nHost: x\r\nX-A: ")
		}
		c := rawConn(t, addr)
		fmt.Fprintf(c, "GET /huge HTTP/1.1\r\nHost: x\r\nX-Huge: %s\r\n\r\n", strings.Repeat("h", 200<<10))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != 431 {
			t.Errorf("huge headers: %v %v, want 431", resp, err)
		}
		free("slow and huge headers")
		if s := seen(t, dir); strings.Contains(s, "/slowloris") || strings.Contains(s, "/huge") {
			t.Errorf("an incomplete or oversized request reached the app:\n%s", s)
		}
	})

	t.Run("bodies that never come", func(t *testing.T) {
		for _, framing := range []string{"Content-Length: 1000", "Transfer-Encoding: chunked"} {
			fmt.Fprintf(rawConn(t, addr), "POST /upload HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n", framing)
		}
		free("bodies that never come")
		if strings.Contains(seen(t, dir), "/upload") {
			t.Errorf("a request whose body never came reached the app:\n%s", seen(t, dir))
		}
	})

	t.Run("trickled body", func(t *testing.T) {
		// A small body comes whole to Go before the request takes the
		// thread: a client that sends it a byte at a time waits alone.
		c := rawConn(t, addr)
		fmt.Fprintf(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n%s", strings.Repeat("x", 10))
		free("a body trickling in")
		if strings.Contains(seen(t, dir), "/echo") {
			t.Errorf("a request whose body was still coming took the thread:\n%s", seen(t, dir))
		}
		fmt.Fprint(c, strings.Repeat("x", 990))
		wantEcho(t, bufio.NewReader(c), "read 1000")
	})

	t.Run("100-continue and no body", func(t *testing.T) {
		// Go sends 100 Continue and waits for the body itself: a client
		// that asks and sends nothing holds no thread.
		c := rawConn(t, addr)
		fmt.Fprint(c, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n")
		br := bufio.NewReader(c)
		if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 Continue") {
			t.Fatalf("want 100 Continue first: %q %v", line, err)
		}
		free("a request that asked for 100 Continue and sent no body")
		fmt.Fprint(c, strings.Repeat("x", 10))
		br.ReadString('\n') // the blank line after the interim response
		wantEcho(t, br, "read 10")
	})

	t.Run("client that stops reading", func(t *testing.T) {
		// The write to a client that takes nothing fails after
		// -write-timeout, and the thread stops the stream.
		c := rawConn(t, addr)
		fmt.Fprintf(c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, err := io.ReadFull(c, make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
		free("a client that stopped reading")
		waitForClose(t, dir, 1)
		in.waitForLog(t, "the client stopped reading the response, and a write to it waited for the server's write timeout")
	})

	t.Run("streamed body", func(t *testing.T) {
		// The app answers with the body's first bytes while the rest has
		// not been sent: nothing waits for the whole body, only for the
		// start Go reads before the request takes a thread.
		c := rawConn(t, addr)
		fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\nhello%s", strings.Repeat("x", 100<<10))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(resp); body != "first=hello" {
			t.Errorf("the body's first bytes: %q", body)
		}
		free("a streamed body")
	})

	t.Run("client gone mid-response", func(t *testing.T) {
		c := rawConn(t, addr)
		fmt.Fprintf(c, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, err := io.ReadFull(c, make([]byte, 1<<20)); err != nil {
			t.Fatal(err)
		}
		c.Close()
		free("a client gone mid-response")
		waitForClose(t, dir, 2)
	})
}

// waitForClose waits until the app's streams have been closed n times in
// all, as the app notes in CLOSED.
func waitForClose(t *testing.T, dir string, n int) {
	t.Helper()
	for i := 0; i < 600; i++ {
		if b, _ := os.ReadFile(filepath.Join(dir, "CLOSED")); strings.Count(string(b), "\n") >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("the body's close() was not called (%d in all) after its client went away or stopped reading", n)
}

// wantEcho reads /echo's response from br, once its body has come, and
// checks it says want.
func wantEcho(t *testing.T, br *bufio.Reader, want string) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(resp); body != want {
		t.Errorf("once the body had come: %d %q, want %q", resp.StatusCode, body, want)
	}
}

func readBody(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// runCommands are the wsgo run commands docs/production.md's section 3
// shows, between its markers: the arguments after "wsgo run" of each.
func runCommands(t *testing.T) [][]string {
	t.Helper()
	doc, err := os.ReadFile("../docs/production.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- wsgo run: begin -->\n")
	block, _, ok2 := strings.Cut(rest, "<!-- wsgo run: end -->")
	if !ok || !ok2 {
		t.Fatal("docs/production.md has no wsgo run commands between its markers")
	}
	var cmds [][]string
	for line := range strings.Lines(block) {
		if args, ok := strings.CutPrefix(strings.TrimSpace(line), "wsgo run "); ok {
			cmds = append(cmds, strings.Fields(strings.TrimSuffix(args, " &")))
		}
	}
	if len(cmds) != 2 {
		t.Fatalf("docs/production.md shows %d wsgo run commands, want 2", len(cmds))
	}
	return cmds
}

// TestNginxPythonInstances is docs/production.md's section 3: two
// instances of wsgo run as it shows them, behind its nginx. Under a steady
// client through nginx, not one request fails while a worker is killed in
// the middle of requests (502, which nginx retries on the other instance),
// while both instances are upgraded one at a time to new code by SIGHUP,
// nor when one instance is killed outright. Every log line is JSON.
func TestNginxPythonInstances(t *testing.T) {
	needPython(t)
	dir := testkit.Tree(t, map[string]string{"app.py": pyBuild(1)})
	var ins []*runInstance
	for i, args := range runCommands(t) {
		port := freePort(t)
		docPort := fmt.Sprint(8001 + i)
		for j := range args {
			if args[j] == docPort {
				args[j] = port
			}
		}
		ins = append(ins, startRunEnv(t, dir, port, []string{"INSTANCE=" + port}, args...))
	}
	a, b := ins[0], ins[1]
	port := startNginx(t, a.port, b.port)
	url := "http://127.0.0.1:" + port + "/"

	client := startClient(url)
	client.waitFor(t, 50)
	_, body, _ := fetchBody(http.DefaultClient, "http://127.0.0.1:"+a.port+"/")
	syscall.Kill(pidOf(t, body), syscall.SIGKILL)
	a.waitForLog(t, fmt.Sprintf("worker %d was killed", pidOf(t, body)))
	client.waitFor(t, 50)

	deployPy(t, dir, pyBuild(2))
	for _, in := range ins {
		in.cmd.Process.Signal(syscall.SIGHUP)
		waitForBody(t, "http://127.0.0.1:"+in.port+"/", 200, "build-2")
		client.waitFor(t, 50)
	}
	client.end(t, "a worker killed, then a rolling upgrade")
	if client.bodies["build-2"] == 0 {
		t.Errorf("after the rolling upgrade, no request was served by build-2: %v", client.bodies)
	}
	// nginx took a's 502 for a's failure (max_fails=1): once it sends to a
	// again, b may go.
	waitForBody(t, url, 200, "instance="+a.port)

	client = startClient(url)
	client.waitFor(t, 50)
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	client.waitFor(t, 300)
	client.end(t, "one instance killed")
	checkJSONLog(t, a.log.String()+b.log.String(), "")
}

// TestRunSocketActivation: wsgo run serves the socket systemd passes
// (LISTEN_FDS), and drains on SIGTERM.
func TestRunSocketActivation(t *testing.T) {
	needPython(t)
	activate, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		if os.Getenv("WSGO_NO_SKIP") != "" {
			t.Fatal("systemd-socket-activate is not installed (apt-get install systemd)")
		}
		t.Skip("systemd-socket-activate is not installed")
	}
	dir := testkit.Tree(t, map[string]string{"app.py": pyWhoami})
	port := freePort(t)
	c := exec.Command(activate, "-l", "127.0.0.1:"+port, wsgoBin, "run", "app.py:app", "-port", "1")
	c.Dir = dir
	out := &syncbuf.Buffer{}
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()
	defer func() {
		c.Process.Kill()
		if t.Failed() {
			t.Logf("output:\n%s", out)
		}
	}()
	waitForBody(t, "http://127.0.0.1:"+port+"/", 200, "build-1")
	c.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("SIGTERM: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("no exit on SIGTERM")
	}
}
