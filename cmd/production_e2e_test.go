//go:build unix

package cmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
)

// whoamiApp is an app that says which build it is and what it was told of
// its client: the address, scheme, host and request id it sees.
const whoamiApp = `package whoami

import (
	"iter"

	"github.com/wsgo/wsgo/wsgi"
)

const build = "build-1"

func whoami(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return wsgi.BodyString(build, " addr=", env.RemoteAddr(), " scheme=", env.Get("wsgi.url_scheme"),
		" host=", env.Get("HTTP_HOST"), " script=", env.ScriptName(), " id=", env.Get("wsgo.request_id"), "\n")
}

func init() { wsgi.Register("whoami", wsgi.AppFunc(whoami)) }
`

// buildWhoami builds the whoami app as a production program, once as
// build-1 and once as build-2, and returns both programs' paths.
func buildWhoami(t *testing.T) (string, string) {
	t.Helper()
	m := newUserModule(t, "")
	dir := t.TempDir()
	var out [2]string
	for i := range out {
		m.write(t, "whoami/whoami.go", strings.Replace(whoamiApp, "build-1", fmt.Sprintf("build-%d", i+1), 1))
		out[i] = filepath.Join(dir, fmt.Sprintf("whoami-%d", i+1))
		if code, log := m.run(t, "build", "-o", out[i]); code != 0 {
			t.Fatalf("wsgo build: exit %d\n%s", code, log)
		}
	}
	return out[0], out[1]
}

// A prodInstance is a running built program.
type prodInstance struct {
	path string // where it runs from, to be replaced for an upgrade
	port string
	cmd  *exec.Cmd
	log  *syncbuf.Buffer
}

// startProd copies program to a place of its own and runs it there on
// a free port, in a process group of its own so that it can be killed
// outright, children and all; it is stopped when the test ends.
func startProd(t *testing.T, program string, args ...string) *prodInstance {
	t.Helper()
	in := &prodInstance{path: filepath.Join(t.TempDir(), "site"), port: freePort(t), log: &syncbuf.Buffer{}}
	copyProgram(t, program, in.path)
	in.cmd = exec.Command(in.path, append(args, "-port", in.port)...)
	in.cmd.Stderr = in.log
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { in.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("instance on %s:\n%s", in.port, in.log)
		}
	})
	waitForBody(t, "http://127.0.0.1:"+in.port+"/", 200, "build-")
	return in
}

// copyProgram puts program at path by a rename, as a deploy must: the
// file a running program was started from is never written over.
func copyProgram(t *testing.T, program, path string) {
	t.Helper()
	data, err := os.ReadFile(program)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".new", data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// siteConf is the nginx configuration docs/production.md shows, between
// its markers.
func siteConf(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../docs/production.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- nginx site.conf: begin -->\n```nginx\n")
	conf, _, ok2 := strings.Cut(rest, "```\n<!-- nginx site.conf: end -->")
	if !ok || !ok2 {
		t.Fatal("docs/production.md has no nginx site.conf between its markers")
	}
	return conf
}

// startNginx runs nginx with docs/production.md's site.conf, its upstreams
// on the given ports, listening on 127.0.0.1 and ::1 on a free port, with
// its files in a directory of its own. It returns the port; nginx is
// stopped when the test ends.
func startNginx(t *testing.T, upstreams ...string) string {
	t.Helper()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nginx", "/sbin/nginx"} {
			if _, err2 := os.Stat(p); err2 == nil {
				nginx, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("WSGO_NO_SKIP") != "" {
			t.Fatal("nginx is not installed (apt-get install nginx)")
		}
		t.Skip("nginx is not installed")
	}
	// The test's client connects to nginx over ::1, so that its address is
	// not the trusted proxy's 127.0.0.1.
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Fatalf("these tests need the IPv6 loopback address ::1: %v", err)
	}
	ln.Close()
	dir := t.TempDir()
	port := freePort(t)
	conf := siteConf(t)
	for _, r := range [][2]string{
		{"listen 80;", "listen 127.0.0.1:" + port + ";"},
		{"listen [::]:80;", "listen [::1]:" + port + ";"},
		{"127.0.0.1:8001", "127.0.0.1:" + upstreams[0]},
		{"127.0.0.1:8002", "127.0.0.1:" + upstreams[len(upstreams)-1]},
	} {
		if !strings.Contains(conf, r[0]) {
			t.Fatalf("docs/production.md's site.conf has no %q", r[0])
		}
		conf = strings.Replace(conf, r[0], r[1], 1)
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("site.conf", conf)
	write("nginx.conf", fmt.Sprintf(`worker_processes 1;
error_log %[1]s/error.log info;
events { worker_connections 512; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, dir))
	c := exec.Command(nginx, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"),
		"-g", "daemon off; pid "+filepath.Join(dir, "nginx.pid")+";")
	out := &syncbuf.Buffer{}
	c.Stdout, c.Stderr = out, out
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { c.Wait(); close(exited) }()
	t.Cleanup(func() {
		c.Process.Signal(syscall.SIGTERM) // nginx's fast shutdown: the master stops its workers
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx:\n%s%s", out, log)
		}
	})
	waitForBody(t, "http://127.0.0.1:"+port+"/", 200, "build-")
	return port
}

// A steadyClient sends requests one after another until stopped, with a
// keep-alive connection and with a new connection each time.
type steadyClient struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	total    atomic.Int64
	mu       sync.Mutex
	failures []string
	bodies   map[string]int // how many bodies began with each build
}

func startClient(url string) *steadyClient {
	c := &steadyClient{stop: make(chan struct{}), bodies: map[string]int{}}
	for _, fresh := range []bool{false, true} {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: fresh}}
			defer client.CloseIdleConnections()
			for i := 0; i < 1_000_000; i++ {
				select {
				case <-c.stop:
					return
				default:
				}
				c.fetch(client, url)
			}
		}()
	}
	return c
}

func (c *steadyClient) fetch(client *http.Client, url string) {
	code, body, err := fetchBody(client, url)
	c.total.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil || code != 200 {
		c.failures = append(c.failures, fmt.Sprintf("%d %q %v", code, body, err))
		return
	}
	build, _, _ := strings.Cut(body, " ")
	c.bodies[build]++
}

// waitFor waits until the client has sent n more requests.
func (c *steadyClient) waitFor(t *testing.T, n int64) {
	t.Helper()
	want := c.total.Load() + n
	for i := 0; i < 3000 && c.total.Load() < want; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if c.total.Load() < want {
		t.Fatalf("the client sent %d requests, not %d, in 30s", c.total.Load(), want)
	}
}

// end stops the client and fails the test if any request failed.
func (c *steadyClient) end(t *testing.T, what string) {
	t.Helper()
	close(c.stop)
	c.wg.Wait()
	if len(c.failures) > 0 {
		t.Errorf("%s: %d of %d requests failed; the first: %s", what, len(c.failures), c.total.Load(), c.failures[0])
	}
	t.Logf("%s: %d requests, %d failed, by build: %v", what, c.total.Load(), len(c.failures), c.bodies)
}

func fetchBody(client *http.Client, url string, header ...string) (int, string, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, "", err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	var b strings.Builder
	_, err = bufio.NewReader(res.Body).WriteTo(&b)
	return res.StatusCode, b.String(), err
}

// TestNginxProxyTrust: behind the nginx of docs/production.md, a program
// run with -proxy 127.0.0.1 sees the client's address (::1, nginx's client)
// and host, whatever X-Forwarded-* and Forwarded the client made up; a
// program without -proxy believes none of them from a client that connects
// to it directly.
func TestNginxProxyTrust(t *testing.T) {
	e2e(t)
	v1, _ := buildWhoami(t)
	behind := startProd(t, v1, "-proxy", "127.0.0.1")
	port := startNginx(t, behind.port)

	spoof := []string{"X-Forwarded-For", "10.6.6.6", "X-Forwarded-Proto", "https", "X-Forwarded-Prefix", "/evil", "Forwarded", "for=10.7.7.7;proto=https"}
	host := "[::1]:" + port
	code, body, err := fetchBody(http.DefaultClient, "http://"+host+"/", spoof...)
	if err != nil || code != 200 {
		t.Fatalf("through nginx: %d %q %v", code, body, err)
	}
	if want := "addr=::1 scheme=http host=" + host + " script= "; !strings.Contains(body, want) {
		t.Errorf("through nginx, the app saw %q; want %q", body, want)
	}

	direct := startProd(t, v1)
	code, body, err = fetchBody(http.DefaultClient, "http://127.0.0.1:"+direct.port+"/", append(spoof, "X-Forwarded-Host", "evil.example")...)
	if err != nil || code != 200 {
		t.Fatalf("direct: %d %q %v", code, body, err)
	}
	if want := "addr=127.0.0.1 scheme=http host=127.0.0.1:" + direct.port + " script= "; !strings.Contains(body, want) {
		t.Errorf("without -proxy, a client's X-Forwarded-* were believed: %q; want %q", body, want)
	}
}

// TestNginxTwoInstances: nginx load-balances two instances run with
// -upgrade-on-hup and -log-format json, as docs/production.md says. A
// rolling upgrade of both (SIGHUP one, wait until it serves the new
// build, then the other) costs a steady client through nginx no request;
// nor does killing one instance outright with SIGKILL. Every log line is
// JSON, and a request's line carries the X-Request-Id it came with.
func TestNginxTwoInstances(t *testing.T) {
	e2e(t)
	v1, v2 := buildWhoami(t)
	args := []string{"-proxy", "127.0.0.1", "-log-format", "json", "-upgrade-on-hup"}
	a := startProd(t, v1, args...)
	b := startProd(t, v1, args...)
	port := startNginx(t, a.port, b.port)
	url := "http://127.0.0.1:" + port + "/"

	// The request id: the client's, through nginx, into the app and the log.
	code, body, err := fetchBody(http.DefaultClient, "http://[::1]:"+port+"/", "X-Request-Id", "e2e-request-1")
	if err != nil || code != 200 || !strings.Contains(body, " id=e2e-request-1") {
		t.Errorf("X-Request-Id through nginx: %d %q %v", code, body, err)
	}

	client := startClient(url)
	client.waitFor(t, 50)
	for _, in := range []*prodInstance{a, b} {
		copyProgram(t, v2, in.path)
		in.cmd.Process.Signal(syscall.SIGHUP)
		waitForBody(t, "http://127.0.0.1:"+in.port+"/", 200, "build-2")
		client.waitFor(t, 50)
	}
	client.end(t, "rolling upgrade")
	if client.bodies["build-2"] == 0 {
		t.Errorf("after the rolling upgrade, no request was served by build-2: %v", client.bodies)
	}

	client = startClient(url)
	client.waitFor(t, 50)
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	client.waitFor(t, 500)
	client.end(t, "one instance killed")

	checkJSONLog(t, a.log.String()+b.log.String(), "e2e-request-1")
}

// checkJSONLog fails the test unless every line of log is a JSON object
// and, unless id is empty, a request line carries id, the client nginx
// named and nginx's address as the peer.
func checkJSONLog(t *testing.T, log, id string) {
	t.Helper()
	var found bool
	for line := range strings.Lines(log) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("a log line is not JSON (%v): %s", err, line)
			continue
		}
		for _, k := range []string{"time", "level", "msg"} {
			if _, ok := m[k]; !ok {
				t.Errorf("a log line has no %q: %s", k, line)
			}
		}
		if m["msg"] == "request" && m["request_id"] == id {
			found = true
			if m["client"] != "::1" || m["peer"] != "127.0.0.1" || m["status"] != 200.0 {
				t.Errorf("the request's log line: %s", line)
			}
		}
	}
	if !found && id != "" {
		t.Errorf("no request line with request_id %q in the log", id)
	}
}
