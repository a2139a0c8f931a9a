package devserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/internal/testkit"
	"github.com/wsgo/wsgo/serve"
	"github.com/wsgo/wsgo/wsgi"
)

// hostileServer serves app with serve.NewServer's limits, as wsgo serve does.
func hostileServer(t *testing.T, app wsgi.App, configure ...func(*http.Server)) (*httptest.Server, *syncbuf.Buffer) {
	t.Helper()
	log := &syncbuf.Buffer{}
	l := NewLogger(log, false)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = serve.NewServer(NewGateway(app, "test", l), l).Server
	for _, f := range configure {
		f(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, log
}

// rawResponse sends raw on a new connection and reads one response.
func rawResponse(t *testing.T, srv *httptest.Server, raw string) *http.Response {
	t.Helper()
	conn := testkit.Dial(t, srv)
	io.WriteString(conn, raw)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to %.60q: %v", raw, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// counting records the environs the app was handed.
type counting struct {
	mu   sync.Mutex
	envs []wsgi.Environ
}

func (c *counting) ServeWSGI(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	if env.PathInfo() == "/good" {
		return ok(env, start)
	}
	body, _ := io.ReadAll(env.Input())
	env["test.body"] = string(body)
	c.mu.Lock()
	c.envs = append(c.envs, env)
	c.mu.Unlock()
	start("200 OK", textPlain)
	return wsgi.BodyString("seen")
}

func (c *counting) seen() []wsgi.Environ {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wsgi.Environ(nil), c.envs...)
}

func TestHostileRequestsAreTurnedAway(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		status []int
	}{
		{"header block over the limit", "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n", []int{431}},
		{"request line over the limit", "GET /" + strings.Repeat("a", 100<<10) + " HTTP/1.1\r\nHost: h\r\n\r\n", []int{431, 414}},
		{"bad percent-encoding", "GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n", []int{400}},
		{"NUL in the path", "GET /a\x00b HTTP/1.1\r\nHost: h\r\n\r\n", []int{400}},
		{"CR in the path", "GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", []int{400}},
		{"%00 in the path", "GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n", []int{400}},
		{"%1b in the path", "GET /%1b[31m HTTP/1.1\r\nHost: h\r\n\r\n", []int{400}},
		{"%0a in the path", "GET /a%0Ab HTTP/1.1\r\nHost: h\r\n\r\n", []int{400}},
		{"%7f in the path", "GET /a%7fb HTTP/1.1\r\nHost: h\r\n\r\n", []int{400}},
		{"U+009B in the path", "GET /a%c2%9b31m HTTP/1.1\r\nHost: h\r\n\r\n", []int{400}},
		{"raw U+009B in the path", "GET /a\xc2\x9b31m HTTP/1.1\r\nHost: h\r\n\r\n", []int{400}},
		{"space in a header name", "GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n", []int{400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &counting{}
			srv, _ := hostileServer(t, app)
			resp := rawResponse(t, srv, tt.raw)
			if !containsInt(tt.status, resp.StatusCode) {
				t.Errorf("status %d, want one of %v", resp.StatusCode, tt.status)
			}
			if n := len(app.seen()); n != 0 {
				t.Errorf("the app saw %d such requests", n)
			}
			testkit.StillServes(t, srv)
		})
	}
}

// TestHeaderLimit pins the limit docs/security.md states: the request line
// and headers together may take MaxHeaderBytes (64 KiB) and the 4096 bytes
// net/http adds for its read buffer, and no more.
func TestHeaderLimit(t *testing.T) {
	const limit = 64<<10 + 4096
	for size, want := range map[int]int{limit: 200, limit + 1: 431} {
		head := "GET /good HTTP/1.1\r\nHost: h\r\nX-Pad: "
		raw := head + strings.Repeat("p", size-len(head)-len("\r\n\r\n")) + "\r\n\r\n"
		srv, _ := hostileServer(t, &counting{})
		if resp := rawResponse(t, srv, raw); resp.StatusCode != want {
			t.Errorf("%d bytes of request line and headers: %d, want %d", len(raw), resp.StatusCode, want)
		}
	}
}

// TestPathsThatAreNotControls: bytes 0x80 to 0x9f that are not U+0080 to
// U+009F, as in "€" or a path that is not UTF-8, reach the app.
func TestPathsThatAreNotControls(t *testing.T) {
	for _, path := range []string{"/caf%C3%A9", "/%E2%82%AC", "/\xe2\x82\xac", "/%9b", "/%C3%9Fa"} {
		app := &counting{}
		srv, _ := hostileServer(t, app)
		if resp := rawResponse(t, srv, "GET "+path+" HTTP/1.1\r\nHost: h\r\n\r\n"); resp.StatusCode != 200 || len(app.seen()) != 1 {
			t.Errorf("%s: %d, the app saw %d requests", path, resp.StatusCode, len(app.seen()))
		}
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestUnderscoreHeaderCannotSpoof(t *testing.T) {
	app := &counting{}
	srv, _ := hostileServer(t, app)
	rawResponse(t, srv, "GET /who HTTP/1.1\r\nHost: h\r\nX-Forwarded_For: 10.0.0.1\r\nX_Auth-User: admin\r\n\r\n")
	env := app.seen()[0]
	for _, k := range []string{"HTTP_X_FORWARDED_FOR", "HTTP_X_AUTH_USER"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s = %q reached the app from an underscore header", k, v)
		}
	}
	testkit.StillServes(t, srv)
}

// pipelined sends raw on a new connection and reads up to max responses,
// fewer if the server closes the connection first.
func pipelined(t *testing.T, srv *httptest.Server, raw string, max int) []*http.Response {
	t.Helper()
	conn := testkit.Dial(t, srv)
	io.WriteString(conn, raw)
	br := bufio.NewReader(conn)
	var resps []*http.Response
	for len(resps) < max {
		resp, err := http.ReadResponse(br, nil)
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return resps
		}
		if err != nil {
			t.Fatalf("after %d responses: %v", len(resps), err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		resps = append(resps, resp)
	}
	return resps
}

// TestNoRequestSmuggling sends requests whose body a proxy in front could
// frame differently from wsgo, each followed on the same connection by a
// second request. RFC 9112 §6.1: the server answers (the chunked body wins)
// and closes the connection, so the bytes after the body are never served.
func TestNoRequestSmuggling(t *testing.T) {
	second := "GET /second HTTP/1.1\r\nHost: h\r\n\r\n"
	tests := []struct{ name, raw string }{
		{"Content-Length and Transfer-Encoding", "POST /first HTTP/1.1\r\nHost: h\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + second},
		{"Transfer-Encoding and Content-Length", "POST /first HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + second},
		// net/http drops Content-Length before wsgo sees the request, so a
		// chunked body alone is treated alike.
		{"chunked alone", "POST /first HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + second},
		// HTTP/1.0 has no chunked coding: net/http frames by Content-Length
		// and drops Transfer-Encoding, which RFC 9112 calls faulty framing.
		{"HTTP/1.0 with both", "POST /first HTTP/1.0\r\nHost: h\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &counting{}
			srv, _ := hostileServer(t, app)
			resps := pipelined(t, srv, tt.raw, 2)
			if len(resps) != 1 || !resps[0].Close {
				t.Fatalf("got %d responses (first Connection: close %v), want one and the connection closed", len(resps), len(resps) > 0 && resps[0].Close)
			}
			seen := app.seen()
			if len(seen) != 1 || seen[0].PathInfo() != "/first" {
				t.Fatalf("the app saw %d requests; want only /first", len(seen))
			}
			if !strings.HasPrefix(tt.raw, "POST /first HTTP/1.0") {
				if cl, ok := seen[0]["CONTENT_LENGTH"]; ok || seen[0]["test.body"] != "" {
					t.Errorf("CONTENT_LENGTH %v, body %q; want the chunked, empty body", cl, seen[0]["test.body"])
				}
			}
			testkit.StillServes(t, srv)
		})
	}
}

// TestKeepAliveAfterAPlainBody: a body framed by Content-Length alone leaves
// the connection open for the next request.
func TestKeepAliveAfterAPlainBody(t *testing.T) {
	app := &counting{}
	srv, _ := hostileServer(t, app)
	conn := testkit.Dial(t, srv)
	io.WriteString(conn, "POST /first HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhiGET /second HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
	br := bufio.NewReader(conn)
	for _, path := range []string{"/first", "/second"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("no answer to %s: %v", path, err)
		}
		io.Copy(io.Discard, resp.Body)
	}
	if seen := app.seen(); len(seen) != 2 || seen[0]["test.body"] != "hi" {
		t.Errorf("the app saw %d requests", len(seen))
	}
}

func TestSlowClientIsCutOff(t *testing.T) {
	srv, _ := hostileServer(t, &counting{}, func(s *http.Server) { s.ReadHeaderTimeout = 300 * time.Millisecond })
	conn := testkit.Dial(t, srv)
	io.WriteString(conn, "GET / HTTP/1.1\r\n")
	rest := "Host: h\r\nX-Slow: " + strings.Repeat("s", 40) + "\r\n\r\n"
	closed := false
	for i := 0; i < len(rest) && !closed; i++ {
		if _, err := conn.Write([]byte{rest[i]}); err != nil {
			closed = true
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(conn)
	if err != nil && !closed {
		t.Fatalf("the server never cut the slow client off: %v", err)
	}
	if strings.Contains(string(b), "200 OK") {
		t.Errorf("a client one byte per 50ms got through ReadHeaderTimeout: %q", b)
	}
	testkit.StillServes(t, srv)
}

func TestClientGoneMidBody(t *testing.T) {
	done := make(chan struct{})
	app := wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start("200 OK", textPlain)
		return func(yield func([]byte) bool) {
			defer close(done)
			buf := make([]byte, 64)
			for {
				n, err := env.Input().Read(buf)
				if n > 0 && !yield(buf[:n]) || err != nil {
					return
				}
			}
		}
	})
	srv, log := hostileServer(t, route{"/upload": app})
	conn := testkit.Dial(t, srv)
	io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\nonly ten b")
	time.Sleep(50 * time.Millisecond)
	conn.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the body's cleanup never ran")
	}
	testkit.WaitForLog(t, log, "client went away while sending the request body (10 bytes of 1000 read")
	testkit.StillServes(t, srv)
}

func TestThousandConcurrentConnections(t *testing.T) {
	var served atomic.Int64
	srv, _ := hostileServer(t, route{"/c": func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		served.Add(1)
		return ok(env, start)
	}})
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 30*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(60 * time.Second))
			fmt.Fprintf(conn, "GET /c?i=%d HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", i)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				errs <- err
				return
			}
			if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(b) != "ok" {
				errs <- fmt.Errorf("%d %q", resp.StatusCode, b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	var first error
	for err := range errs {
		if first == nil {
			first = err
		}
		failed++
	}
	if failed > 0 {
		t.Errorf("%d of %d connections failed; first: %v", failed, n, first)
	}
	if served.Load() != n {
		t.Errorf("served %d of %d", served.Load(), n)
	}
	testkit.StillServes(t, srv)
}
