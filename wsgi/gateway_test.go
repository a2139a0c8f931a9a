package wsgi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	stdlog "log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/internal/testkit"
)

// route is a tiny dispatcher so one server can hold a misbehaving app and a
// good one, and a test can show the server still serves after a failure.
type route map[string]AppFunc

func (m route) ServeWSGI(env Environ, start StartResponse) iter.Seq[[]byte] {
	if app, ok := m[env.PathInfo()]; ok {
		return app(env, start)
	}
	return ok(env, start)
}

func ok(env Environ, start StartResponse) iter.Seq[[]byte] {
	start("200 OK", Headers{{Name: "Content-Type", Value: "text/plain"}})
	return BodyString("ok")
}

// testLog is a Logger writing to w, with no timestamps.
func testLog(w io.Writer) Logger { return LogTo(stdlog.New(w, "", 0)) }

// newServer serves app on a loopback port, its log in the returned buffer.
func newServer(t *testing.T, app App) (*httptest.Server, *syncbuf.Buffer) {
	t.Helper()
	log := &syncbuf.Buffer{}
	srv := httptest.NewServer(&Gateway{App: app, Name: "test", Log: testLog(log)})
	t.Cleanup(srv.Close)
	return srv, log
}

// brokenError's Error method panics on a nil pointer, as careless ones do.
type brokenError struct{ msg string }

func (e *brokenError) Error() string { return e.msg }

func h(name, value string) Header { return Header{Name: name, Value: value} }

var textPlain = Headers{h("Content-Type", "text/plain")}

// TestBrokenAppsGet500 covers each way an app can fail before its headers
// are out: the client gets a plain 500 that says nothing of the failure, the
// log gets one line naming the app and saying what went wrong (and the stack
// under it, when the app panicked), and the next request is served.
func TestBrokenAppsGet500(t *testing.T) {
	tests := []struct {
		name string
		app  AppFunc
		want string // in the log line
	}{
		{"panic", func(Environ, StartResponse) iter.Seq[[]byte] { panic("boom at the start") }, "boom at the start"},
		{"panic in body", func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			return func(func([]byte) bool) { panic(errors.New("boom in the body")) }
		}, "boom in the body"},
		{"runtime error", func(env Environ, _ StartResponse) iter.Seq[[]byte] {
			var s []int
			return BodyString(fmt.Sprint(s[len(env.PathInfo())]))
		}, "panic: runtime error: index out of range"},
		{"error whose Error method panics", func(Environ, StartResponse) iter.Seq[[]byte] {
			var e *brokenError
			panic(e)
		}, "panic: *wsgi.brokenError: <nil>"},
		{"panic with the client's escape codes", func(Environ, StartResponse) iter.Seq[[]byte] {
			panic("no user \x1b]0;PWNED\x07\nforged line")
		}, `panic: no user \x1b]0;PWNED\a\nforged line`},
		{"no start_response", func(Environ, StartResponse) iter.Seq[[]byte] { return nil }, "without calling start_response"},
		{"body before start_response", func(Environ, StartResponse) iter.Seq[[]byte] {
			return BodyString("early")
		}, "before calling start_response"},
		{"status without reason", status("200"), `malformed status: "200"`},
		{"status not a number", status("OK 200"), "malformed status"},
		{"status under 100", status("099 Low"), "malformed status"},
		{"informational status", status("100 Continue"), "informational status"},
		{"control character in status", status("200 O\nK"), "control character in status"},
		{"empty header name", header("", "x"), "bad header name"},
		{"space in header name", header("Bad Name", "x"), `bad header name: "Bad Name"`},
		{"colon in header name", header("X-A:", "x"), "bad header name"},
		{"CR LF in header value", header("X-Inject", "a\r\nSet-Cookie: evil=1"), "control character in header: X-Inject"},
		{"NUL in header value", header("X-Nul", "a\x00b"), "control character in header"},
		{"hop-by-hop Connection", header("Connection", "close"), `hop-by-hop header: "Connection"`},
		{"hop-by-hop Transfer-Encoding", header("transfer-encoding", "chunked"), "hop-by-hop header"},
		{"hop-by-hop Upgrade", header("Upgrade", "h2c"), "hop-by-hop header"},
		{"Status header", header("Status", "200"), "status header"},
		{"bad Content-Length", header("Content-Length", "-1"), "bad Content-Length"},
		{"two Content-Lengths", func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", Headers{h("Content-Length", "1"), h("Content-Length", "1")})
			return BodyString("x")
		}, "given twice"},
		{"start_response twice", func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			start("404 Not Found", textPlain)
			return nil
		}, "called twice"},
		{"short single chunk", func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", Headers{h("Content-Length", "10")})
			return BodyString("short")
		}, "declared 10 bytes and produced 5"},
		{"long single chunk", func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", Headers{h("Content-Length", "2")})
			return BodyString("too long")
		}, "declared 2 bytes and produced 8"},
		{"empty body with Content-Length", func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", Headers{h("Content-Length", "3")})
			return nil
		}, "declared 3 bytes and produced 0"},
		{"body on 204", func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("204 No Content", nil)
			return BodyString("x")
		}, "status 204 has no body"},
		{"error after the first chunk, before any is sent", func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			return func(yield func([]byte) bool) {
				yield([]byte("partial"))
				start("500 Oops", textPlain, errors.New("failed mid-body"))
			}
		}, "failed mid-body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, log := newServer(t, route{"/bad": tt.app})
			resp, body, err := testkit.Get(t, srv.URL+"/bad")
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 500 {
				t.Errorf("status %d, want 500", resp.StatusCode)
			}
			if body != "500 Internal Server Error\n" {
				t.Errorf("500 body is not the plain one:\n%s", body)
			}
			first, stack, _ := strings.Cut(log.String(), "\n")
			if !strings.Contains(first, `app "test" failed on GET "/bad"`) || !strings.Contains(first, tt.want) {
				t.Errorf("log does not begin with a line naming the app and saying %q:\n%s", tt.want, log)
			}
			for line := range strings.Lines(stack) {
				if strings.TrimSpace(line) != "" && !strings.HasPrefix(line, "github.com/wsgo/wsgo/wsgi") && !strings.HasPrefix(line, "\t") {
					t.Errorf("log line after the first is not a stack frame: %q", line)
				}
			}
			testkit.StillServes(t, srv)
		})
	}
}

func status(s string) AppFunc {
	return func(_ Environ, start StartResponse) iter.Seq[[]byte] {
		start(s, textPlain)
		return BodyString("x")
	}
}

func header(name, value string) AppFunc {
	return func(_ Environ, start StartResponse) iter.Seq[[]byte] {
		start("200 OK", Headers{h(name, value)})
		return BodyString("x")
	}
}

// streamThenFail sends two chunks, so the headers are out, then fails.
func streamThenFail(fail func(start StartResponse)) AppFunc {
	return func(_ Environ, start StartResponse) iter.Seq[[]byte] {
		start("200 OK", textPlain)
		return func(yield func([]byte) bool) {
			if yield([]byte("one ")) && yield([]byte("two ")) {
				fail(start)
			}
		}
	}
}

// TestFailuresAfterHeadersAbort: once the headers are out, a failure can only
// cut the connection, so that the client cannot mistake a partial body for a
// whole one.
func TestFailuresAfterHeadersAbort(t *testing.T) {
	tests := []struct {
		name  string
		app   AppFunc
		want  string // in the log
		whole string // the body a client may read in full; "" if reading must fail
	}{
		{"panic mid-stream", streamThenFail(func(StartResponse) { panic("boom mid-stream") }), "boom mid-stream", ""},
		{"excInfo after headers", streamThenFail(func(start StartResponse) {
			start("500 Internal Server Error", textPlain, errors.New("late failure"))
		}), "late failure", ""},
		{"short body", func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", Headers{h("Content-Length", "100")})
			return Body([]byte("a"), []byte("b"))
		}, "declared 100 bytes and produced 2", ""},
		// Cut at the declared length, which leaves a whole, valid response.
		{"long body", func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", Headers{h("Content-Length", "3")})
			return Body([]byte("ab"), []byte("cdef"))
		}, "declared 3 bytes and produced more", "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, log := newServer(t, route{"/bad": tt.app})
			resp, body, err := testkit.Get(t, srv.URL+"/bad")
			switch {
			case tt.whole == "" && err == nil:
				t.Errorf("a whole response arrived (%d, %q); the connection should have been cut", resp.StatusCode, body)
			case tt.whole != "" && (err != nil || resp.StatusCode != 200 || body != tt.whole):
				t.Errorf("got %v %q, %v; want 200 and exactly %q", resp, body, err, tt.whole)
			}
			testkit.WaitForLog(t, log, tt.want)
			testkit.StillServes(t, srv)
		})
	}
}

func TestExcInfoReplacesUnsentHeaders(t *testing.T) {
	app := func(_ Environ, start StartResponse) iter.Seq[[]byte] {
		start("200 OK", Headers{h("X-First", "1")})
		return func(yield func([]byte) bool) {
			// An empty chunk does not send the headers (PEP 3333), so the
			// app may still change its mind.
			if !yield(nil) {
				return
			}
			start("503 Service Unavailable", Headers{h("Content-Type", "text/plain"), h("Retry-After", "1")}, errors.New("database down"))
			yield([]byte("try later"))
		}
	}
	srv, _ := newServer(t, route{"/x": app})
	resp, body, err := testkit.Get(t, srv.URL+"/x")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || resp.Header.Get("X-First") != "" || body != "try later" {
		t.Errorf("got %d %v %q; want the replacement 503 only", resp.StatusCode, resp.Header, body)
	}
}

func TestHeadersKeepOrderAndRepeats(t *testing.T) {
	app := func(_ Environ, start StartResponse) iter.Seq[[]byte] {
		start("201 Created", Headers{h("Set-Cookie", "a=1"), h("Content-Type", "text/plain"), h("Set-Cookie", "b=2"), h("Server", "mine")})
		return BodyString("made")
	}
	srv, _ := newServer(t, route{"/x": app})
	resp, _, err := testkit.Get(t, srv.URL+"/x")
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 2 || got[0] != "a=1" || got[1] != "b=2" {
		t.Errorf("Set-Cookie %q", got)
	}
	if resp.StatusCode != 201 || resp.Header.Get("Server") != "mine" {
		t.Errorf("status %d, Server %q", resp.StatusCode, resp.Header.Get("Server"))
	}
}

func TestContentLength(t *testing.T) {
	big := strings.Repeat("x", 1<<20) // larger than net/http's own buffer
	srv, _ := newServer(t, route{
		"/single": func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			return BodyString(big)
		},
		"/multi": func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			return Body([]byte(big), []byte("tail"))
		},
		"/declared": func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", Headers{h("Content-Length", "6")})
			return Body([]byte("abc"), nil, []byte("def"))
		},
		"/empty": func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			return nil
		},
	})
	for path, want := range map[string]int64{"/single": int64(len(big)), "/multi": -1, "/declared": 6, "/empty": 0} {
		resp, body, err := testkit.Get(t, srv.URL+path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if resp.ContentLength != want {
			t.Errorf("%s: Content-Length %d, want %d", path, resp.ContentLength, want)
		}
		if want >= 0 && int64(len(body)) != want {
			t.Errorf("%s: body of %d bytes", path, len(body))
		}
	}
}

func TestHeadSendsNoBody(t *testing.T) {
	srv, _ := newServer(t, route{"/x": func(_ Environ, start StartResponse) iter.Seq[[]byte] {
		start("200 OK", textPlain)
		return BodyString("hello")
	}})
	conn := testkit.Dial(t, srv)
	fmt.Fprintf(conn, "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nGET /good HTTP/1.1\r\nHost: h\r\n\r\n")
	br := bufio.NewReader(conn)
	head, err := http.ReadResponse(br, &http.Request{Method: "HEAD"})
	if err != nil {
		t.Fatal(err)
	}
	if head.StatusCode != 200 || head.Header.Get("Content-Length") != "5" {
		t.Errorf("HEAD: %d, Content-Length %q", head.StatusCode, head.Header.Get("Content-Length"))
	}
	// Had the body been sent, the next response would not parse.
	next, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("response after HEAD: %v", err)
	}
	if b, _ := io.ReadAll(next.Body); string(b) != "ok" {
		t.Errorf("response after HEAD: %q", b)
	}
}

// TestHeadMayDeclareGetsLength: an app that answers HEAD as HTTP says, with
// GET's Content-Length and no body (http.FileServer does), is not failed for
// it; one that sends nothing and declares nothing gets no length of 0.
func TestHeadMayDeclareGetsLength(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("sixteen bytes ok"), 0o644)
	srv, _ := newServer(t, route{
		"/declared": func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", Headers{{Name: "Content-Type", Value: "text/plain"}, {Name: "Content-Length", Value: "16"}})
			return nil
		},
		"/silent": func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			return nil
		},
		"/a.txt": FromHandler(http.FileServer(http.Dir(dir))).ServeWSGI,
	})
	for path, want := range map[string]string{"/declared": "16", "/a.txt": "16", "/silent": ""} {
		req, _ := http.NewRequest("HEAD", srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != want {
			t.Errorf("HEAD %s: %d, Content-Length %q; want 200 and %q", path, resp.StatusCode, resp.Header.Get("Content-Length"), want)
		}
	}
}

func echo(env Environ, start StartResponse) iter.Seq[[]byte] {
	body, err := io.ReadAll(env.Input())
	if err != nil {
		panic(err)
	}
	start("200 OK", textPlain)
	return Body(body)
}

func TestExpectContinue(t *testing.T) {
	srv, _ := newServer(t, route{"/echo": echo})
	conn := testkit.Dial(t, srv)
	fmt.Fprintf(conn, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 Continue") {
		t.Fatalf("before the body the server said %q, %v; want 100 Continue", line, err)
	}
	br.ReadString('\n') // the blank line ending the interim response
	conn.Write([]byte("hello"))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "hello" {
		t.Errorf("echo %q", b)
	}
}

func TestWriteComesBeforeYieldedData(t *testing.T) {
	srv, _ := newServer(t, route{"/x": func(_ Environ, start StartResponse) iter.Seq[[]byte] {
		write := start("200 OK", textPlain)
		if err := write([]byte("written ")); err != nil {
			panic(err)
		}
		return BodyString("yielded")
	}})
	_, body, err := testkit.Get(t, srv.URL+"/x")
	if err != nil || body != "written yielded" {
		t.Errorf("body %q, %v", body, err)
	}
}

// TestFirstChunkIsNotHeldForTheSecond: PEP 3333 forbids waiting for the next
// chunk before sending one. The app here will not produce its second chunk
// until the client has read the first.
func TestFirstChunkIsNotHeldForTheSecond(t *testing.T) {
	gotFirst := make(chan struct{})
	srv, _ := newServer(t, route{"/stream": func(_ Environ, start StartResponse) iter.Seq[[]byte] {
		start("200 OK", textPlain)
		return func(yield func([]byte) bool) {
			if !yield([]byte("first\n")) {
				return
			}
			select {
			case <-gotFirst:
				yield([]byte("second\n"))
			case <-time.After(10 * time.Second):
				yield([]byte("timed out\n"))
			}
		}
	}})
	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if line, _ := br.ReadString('\n'); line != "first\n" {
		t.Fatalf("first line %q", line)
	}
	close(gotFirst)
	if line, _ := br.ReadString('\n'); line != "second\n" {
		t.Errorf("second line %q: the first chunk waited for the second", line)
	}
}

// TestSteadyStreamIsFlushed: an app that yields a small chunk every
// millisecond never pauses for a whole flushDelay, yet its first chunk must
// not wait in the server's buffers until they fill (a few thousand chunks).
func TestSteadyStreamIsFlushed(t *testing.T) {
	more := make(chan struct{})
	srv, _ := newServer(t, route{"/stream": func(env Environ, start StartResponse) iter.Seq[[]byte] {
		start("200 OK", textPlain)
		return func(yield func([]byte) bool) {
			for {
				select {
				case <-more:
				case <-env.Context().Done():
					return
				}
				if !yield([]byte("x")) {
					return
				}
			}
		}
	}})
	got := make(chan error, 1) // the first byte of the body, or why not
	go func() {
		resp, err := http.Get(srv.URL + "/stream")
		if err != nil {
			got <- err
			return
		}
		defer resp.Body.Close()
		_, err = resp.Body.Read(make([]byte, 1))
		got <- err
	}()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	const limit = 2000 // chunks: two seconds at the ticker's pace, well short of the buffers
	for sent := 1; sent <= limit; sent++ {
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
			return
		case <-tick.C:
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
			return
		case more <- struct{}{}:
		}
	}
	t.Errorf("the client had nothing after %d chunks, one a millisecond", limit)
}

// cleanupApp streams until stopped; its deferred cleanup reports on done.
func cleanupApp(done chan<- string, failAfter int) AppFunc {
	return func(_ Environ, start StartResponse) iter.Seq[[]byte] {
		start("200 OK", textPlain)
		return func(yield func([]byte) bool) {
			defer func() { done <- "closed" }()
			for i := 0; i < 100000; i++ {
				if i == failAfter {
					panic("app error")
				}
				if !yield([]byte(strings.Repeat("x", 1024))) {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
}

func TestBodyCleanupRuns(t *testing.T) {
	wait := func(t *testing.T, done <-chan string) {
		t.Helper()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the body's cleanup never ran")
		}
	}
	t.Run("normal end", func(t *testing.T) {
		done := make(chan string, 1)
		srv, _ := newServer(t, route{"/x": func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			return func(yield func([]byte) bool) {
				defer func() { done <- "closed" }()
				yield([]byte("done"))
			}
		}})
		testkit.Get(t, srv.URL+"/x")
		wait(t, done)
	})
	t.Run("app error", func(t *testing.T) {
		done := make(chan string, 1)
		srv, log := newServer(t, route{"/x": cleanupApp(done, 3)})
		testkit.Get(t, srv.URL+"/x")
		wait(t, done)
		testkit.WaitForLog(t, log, "app error")
	})
	t.Run("client disconnect", func(t *testing.T) {
		done := make(chan string, 1)
		srv, log := newServer(t, route{"/x": cleanupApp(done, -1)})
		conn := testkit.Dial(t, srv)
		fmt.Fprintf(conn, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
		if _, err := io.ReadFull(conn, make([]byte, 4096)); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		wait(t, done)
		testkit.StillServes(t, srv)
		testkit.WaitForLog(t, log, "the connection closed before the response was done")
	})
}

func TestWsgiErrorsGoToTheLog(t *testing.T) {
	srv, log := newServer(t, route{"/x": func(env Environ, start StartResponse) iter.Seq[[]byte] {
		fmt.Fprintln(env.Errors(), "a note from the app")
		return ok(env, start)
	}})
	testkit.Get(t, srv.URL+"/x")
	if !strings.Contains(log.String(), "a note from the app\n") {
		t.Errorf("log: %q", log)
	}
}

func TestHandlerServesAnApp(t *testing.T) {
	srv := httptest.NewServer(Handler(AppFunc(func(env Environ, start StartResponse) iter.Seq[[]byte] {
		start("200 OK", textPlain)
		return BodyString(env.Method(), " ", env.PathInfo(), " ", env.QueryString(), " ", env.RemoteAddr())
	})))
	defer srv.Close()
	resp, body, err := testkit.Get(t, srv.URL+"/get/prefix?ip=")
	if err != nil {
		t.Fatal(err)
	}
	if body != "GET /get/prefix ip= 127.0.0.1" || resp.Header.Get("Server") != "wsgo" {
		t.Errorf("body:\n%s", body)
	}
}

// TestStalledBodyIsLoggedAsSuch: a read of the request body that ends at a
// server's deadline is logged as a client that stopped sending, not as one
// that went away.
func TestStalledBodyIsLoggedAsSuch(t *testing.T) {
	log := &syncbuf.Buffer{}
	srv := httptest.NewUnstartedServer(&Gateway{App: AppFunc(func(env Environ, start StartResponse) iter.Seq[[]byte] {
		io.ReadAll(env.Input())
		return ok(env, start)
	}), Name: "test", Log: testLog(log)})
	srv.Config.ReadTimeout = 200 * time.Millisecond
	srv.Start()
	defer srv.Close()
	conn := testkit.Dial(t, srv)
	io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: h\r\nX-Request-Id: r-1\r\nContent-Length: 1000\r\n\r\nabc")
	testkit.WaitForLog(t, log, `app "test": POST "/upload" (request id r-1): the server cut off a request body the client stopped sending, or sent too slowly (3 bytes of 1000 read`)
}

// TestClientGoneBeforeStart: an app that gives up on a request whose
// client went away before it answered (as a Python app's request queued
// for a thread does) is not reported as an app that broke a rule.
func TestClientGoneBeforeStart(t *testing.T) {
	entered, gone := make(chan struct{}), make(chan struct{})
	srv, log := newServer(t, AppFunc(func(env Environ, start StartResponse) iter.Seq[[]byte] {
		close(entered)
		<-env.Context().Done()
		close(gone)
		return nil
	}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/queued", nil)
	go func() {
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	for _, step := range []chan struct{}{entered, gone} {
		select {
		case <-step:
		case <-time.After(time.Minute):
			t.Fatal("the request never reached the app, or the app never saw its client go")
		}
		cancel()
	}
	srv.Close() // waits for the handler, and so for its log line
	if got := log.String(); strings.Contains(got, "start_response") || !strings.Contains(got, "the connection closed before the response was done") {
		t.Errorf("log:\n%s", got)
	}
}
