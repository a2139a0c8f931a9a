package python

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

// demoApp is the tutorial's demo app, in its Python 3 form.
const demoApp = `
def application(environ, start_response):
    status = '200 OK'
    headers = [('Content-type', 'text/plain; charset=utf-8')]
    start_response(status, headers)
    ret = [("%s\n" % line).encode('utf-8') for line in (
        "The request method was %s" % environ['REQUEST_METHOD'],
        "The request path info was %s" % environ['PATH_INFO'],
        "The remote host was %s" % environ['REMOTE_ADDR'],
        "The query string was %s" % environ['QUERY_STRING'],
    )]
    return ret
`

func TestDemoApp(t *testing.T) {
	needPython(t)
	a := start(t, project(t, map[string]string{"demo.py": demoApp}), "demo.py", Options{})
	srv, _ := serve(t, a)
	resp, err := client.Get(srv.URL + "/get/prefix?ip=")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "The request method was GET\nThe request path info was /get/prefix\nThe remote host was 127.0.0.1\nThe query string was ip=\n"
	if resp.StatusCode != 200 || string(body) != want {
		t.Errorf("%d %q; want 200 %q", resp.StatusCode, body, want)
	}
	if cl := resp.Header.Get("Content-Length"); cl != fmt.Sprint(len(want)) {
		t.Errorf("Content-Length %q: a one-chunk body goes out with its length", cl)
	}
}

// environApp answers with the environ as JSON: strings as the hex of their
// latin-1 bytes, and the type and repr of everything else.
const environApp = `
import json

def application(environ, start_response):
    environ['wsgi.input'].read()
    out = {}
    for key, value in environ.items():
        if type(value) is str:
            out[key] = {"str": value.encode('latin-1').hex()}
        else:
            out[key] = {"type": type(value).__name__, "repr": repr(value)}
    start_response('200 OK', [('Content-Type', 'application/json')])
    return [json.dumps(out).encode()]
`

type pyValue struct {
	Str  *string `json:"str"`
	Type string  `json:"type"`
	Repr string  `json:"repr"`
}

// TestEnvironMatchesGo: the Python app sees every string key of the
// environ the gateway built for the same request, with the same bytes, and
// no other CGI key; the wsgi.* keys follow PEP 3333 and the worker model.
func TestEnvironMatchesGo(t *testing.T) {
	needPython(t)
	a := start(t, project(t, map[string]string{"env.py": environApp}), "env.py", Options{Threads: 2})
	var goEnv map[string]string
	capture := wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		goEnv = map[string]string{}
		for k, v := range env {
			if s, ok := v.(string); ok {
				goEnv[k] = s
			}
		}
		return a.ServeWSGI(env, start)
	})
	srv, _ := serve(t, capture)
	addr := srv.Listener.Addr().String()
	requests := []string{
		"GET /get/prefix?ip= HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET /a%20b%2Fc;p?x=%20y&z=a+b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET /caf%C3%A9/%E2%82%AC?q=%C3%A9 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		"GET /h HTTP/1.1\r\nHost: h\r\nX-Multi: 1\r\nX-Multi: 2\r\nX-Latin: caf\xe9\r\nConnection: close\r\n\r\n",
		"GET /spoof HTTP/1.1\r\nHost: h\r\nX-Auth_User: admin\r\nX-Auth-User: alice\r\nConnection: close\r\n\r\n",
		"POST /form?x=1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\nConnection: close\r\n\r\na=1&b=2",
		"GET /old HTTP/1.0\r\nHost: h\r\n\r\n",
	}
	for _, raw := range requests {
		name, _, _ := strings.Cut(raw, "\r\n")
		t.Run(name, func(t *testing.T) {
			body := rawExchange(t, addr, raw)
			var py map[string]pyValue
			if err := json.Unmarshal([]byte(body), &py); err != nil {
				t.Fatalf("%v: %q", err, body)
			}
			for k, v := range goEnv {
				got, ok := py[k]
				if !ok || got.Str == nil {
					t.Errorf("%s = %q in Go, missing in Python", k, v)
					continue
				}
				b, _ := hex.DecodeString(*got.Str)
				if string(b) != v {
					t.Errorf("%s: Go %q, Python %q", k, v, b)
				}
			}
			for k, v := range py {
				if _, ok := goEnv[k]; !ok && !strings.HasPrefix(k, "wsgi.") {
					t.Errorf("%s = %+v in Python only", k, v)
				}
			}
			want := map[string]string{
				"wsgi.version":          "(1, 0)",
				"wsgi.multithread":      "True",
				"wsgi.multiprocess":     "False",
				"wsgi.run_once":         "False",
				"wsgi.input_terminated": "True",
			}
			for k, w := range want {
				if py[k].Repr != w {
					t.Errorf("%s = %s; want %s", k, py[k].Repr, w)
				}
			}
			types := map[string]string{"wsgi.input": "Input", "wsgi.errors": "Errors", "wsgi.file_wrapper": "type"}
			for k, w := range types {
				if py[k].Type != w {
					t.Errorf("%s is a %s; want %s", k, py[k].Type, w)
				}
			}
			if extra := slices.DeleteFunc(slices.Sorted(maps.Keys(py)), func(k string) bool {
				_, known := goEnv[k]
				_, kw := want[k]
				_, kt := types[k]
				return known || kw || kt
			}); len(extra) > 0 {
				t.Errorf("keys in Python that are neither Go's nor PEP 3333's: %q", extra)
			}
		})
	}
}

// rawExchange sends one raw request and returns the body of a 200.
func rawExchange(t *testing.T, addr, raw string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait))
	io.WriteString(conn, raw)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d: %s", resp.StatusCode, body)
	}
	return string(body)
}

// TestWorkerModelFlags: wsgi.multithread and wsgi.multiprocess tell the
// truth about the workers.
func TestWorkerModelFlags(t *testing.T) {
	needPython(t)
	dir := project(t, map[string]string{"app.py": `
def app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [repr((environ['wsgi.multithread'], environ['wsgi.multiprocess'])).encode()]
`})
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{}, "(True, False)"},
		{Options{Threads: 1}, "(False, False)"},
		{Options{Threads: 1, Workers: 2}, "(False, True)"},
	} {
		a := start(t, dir, "app.py", tt.opts)
		if r := wsgitest.Get(a, "/"); r.Body != tt.want {
			t.Errorf("%+v: %q; want %q", tt.opts, r.Body, tt.want)
		}
		a.Close()
	}
}

// TestLatin1NativeStrings: PATH_INFO holds the UTF-8 bytes of a path as
// latin-1 characters, as PEP 3333 says, and the app recovers the text.
func TestLatin1NativeStrings(t *testing.T) {
	needPython(t)
	a := start(t, project(t, map[string]string{"app.py": `
def app(environ, start_response):
    path = environ['PATH_INFO']
    text = path.encode('latin-1').decode('utf-8')
    start_response('200 OK', [('Content-Type', 'text/plain; charset=utf-8'), ('X-Path', path)])
    return [repr(path).encode('utf-8'), b' ', text.encode('utf-8')]
`}), "app.py", Options{})
	r := wsgitest.Get(a, "/caf%C3%A9")
	if r.Body != "'/cafÃ©' /café" {
		t.Errorf("body %q", r.Body)
	}
	// The header went out as the latin-1 bytes of the native string: the
	// path's UTF-8 bytes again.
	if r.Header.Get("X-Path") != "/café" {
		t.Errorf("X-Path %q", r.Header.Get("X-Path"))
	}
}

// TestStreamingGenerator: each chunk a generator yields reaches the
// client while the generator waits for the next, as PEP 3333 asks.
func TestStreamingGenerator(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	gate := fifo(t, dir, "gate")
	a := start(t, project(t, map[string]string{"app.py": fmt.Sprintf(`
def app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    yield b'one\n'
    with open(%q) as gate:
        gate.readline()
    yield b'two\n'
`, gate)}), "app.py", Options{})
	srv, _ := serve(t, a)
	resp, err := client.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, err := r.ReadString('\n'); line != "one\n" {
		t.Fatalf("first chunk %q, %v", line, err)
	}
	release(t, gate) // the second chunk exists only now
	rest, err := io.ReadAll(r)
	if string(rest) != "two\n" || err != nil {
		t.Errorf("rest %q, %v", rest, err)
	}
}

// TestWriteCallable: write() output goes out before the returned body.
func TestWriteCallable(t *testing.T) {
	needPython(t)
	a := start(t, project(t, map[string]string{"app.py": `
def app(environ, start_response):
    write = start_response('200 OK', [('Content-Type', 'text/plain')])
    write(b'written ')
    write(b'')
    return [b'returned']
`}), "app.py", Options{})
	if r := wsgitest.Get(a, "/"); r.Code != 200 || r.Body != "written returned" {
		t.Errorf("%d %q\n%s", r.Code, r.Body, r.Log)
	}
}

// closeApp's body reports its close() on wsgi.errors; /boom raises after
// its first chunk, /forever never ends.
const closeApp = `
import itertools

class Body:
    def __init__(self, environ, chunks):
        self.environ, self.chunks = environ, chunks
    def __iter__(self):
        return iter(self.chunks)
    def close(self):
        self.environ['wsgi.errors'].write('closed %s\n' % self.environ['PATH_INFO'])

def boom():
    yield b'partial'
    raise RuntimeError('broke mid-body')

def app(environ, start_response):
    path = environ['PATH_INFO']
    start_response('200 OK', [('Content-Type', 'text/plain')])
    if path == '/boom':
        return Body(environ, boom())
    if path == '/forever':
        return Body(environ, itertools.repeat(b'x' * 65536))
    return Body(environ, [b'fine'])
`

// TestCloseAlwaysCalled: the body's close() runs on a normal end, on an
// exception, and when the client goes away in the middle of an endless
// body; the thread is then free for the next request.
func TestCloseAlwaysCalled(t *testing.T) {
	needPython(t)
	a := start(t, project(t, map[string]string{"app.py": closeApp}), "app.py", Options{Threads: 1})
	srv, ev := serve(t, a)

	resp, err := client.Get(srv.URL + "/fine")
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	resp.Body.Close()
	ev.waitFor(t, "closed /fine")

	r := wsgitest.Do(a, httptest.NewRequest("GET", "/boom", nil))
	if !strings.Contains(r.Log, "closed /boom") || !strings.Contains(r.Log, "RuntimeError: broke mid-body") {
		t.Errorf("log:\n%s", r.Log)
	}

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(wait))
	io.WriteString(conn, "GET /forever HTTP/1.1\r\nHost: h\r\n\r\n")
	if _, err := io.ReadFull(conn, make([]byte, 100<<10)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	ev.waitFor(t, "closed /forever")

	// The only thread is free again.
	if r := wsgitest.Get(a, "/fine"); r.Body != "fine" {
		t.Errorf("after a disconnect: %d %q\n%s", r.Code, r.Body, r.Log)
	}
}

// TestExcInfo: start_response with exc_info replaces the headers while
// they are unsent, and re-raises once they are out, which aborts the
// response.
func TestExcInfo(t *testing.T) {
	needPython(t)
	a := start(t, project(t, map[string]string{"app.py": `
import sys

def before(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    try:
        raise ValueError('changed my mind')
    except ValueError:
        start_response('503 Service Unavailable', [('Content-Type', 'text/plain'), ('Retry-After', '1')], sys.exc_info())
    return [b'later']

def after(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    yield b'started'
    try:
        raise KeyError('too late')
    except KeyError:
        start_response('500 Oops', [('Content-Type', 'text/plain')], sys.exc_info())
    yield b'never'

def twice(environ, start_response):
    start_response('200 OK', [])
    start_response('200 OK', [])
    return []

def app(environ, start_response):
    return {'/before': before, '/after': after, '/twice': twice}[environ['PATH_INFO']](environ, start_response)
`}), "app.py", Options{})
	if r := wsgitest.Get(a, "/before"); r.Code != 503 || r.Body != "later" || r.Header.Get("Retry-After") != "1" {
		t.Errorf("/before: %d %q %v\n%s", r.Code, r.Body, r.Header, r.Log)
	}
	// The body's bytes went out of the worker: start_response re-raised
	// the KeyError (its frame is in the traceback), which fails the
	// response: a 500 while the gateway still held the chunk, or a cut
	// connection once it had sent it.
	r := wsgitest.Get(a, "/after")
	if !strings.Contains(r.Log, "KeyError: 'too late'") || !strings.Contains(r.Log, "in after\n    start_response('500 Oops'") ||
		r.Code == 200 && !r.Aborted || strings.Contains(r.Body, "never") {
		t.Errorf("/after: %d, aborted %v, %q\n%s", r.Code, r.Aborted, r.Body, r.Log)
	}
	r = wsgitest.Get(a, "/twice")
	if r.Code != 500 || !strings.Contains(r.Log, "AssertionError: start_response was called a second time without exc_info") {
		t.Errorf("/twice: %d\n%s", r.Code, r.Log)
	}
}

// TestStartResponseChecks: what PEP 3333 says start_response must refuse
// is raised in Python, where the app's author sees it.
func TestStartResponseChecks(t *testing.T) {
	needPython(t)
	a := start(t, project(t, map[string]string{"app.py": `
def app(environ, start_response):
    case = environ['PATH_INFO']
    try:
        if case == '/bytes-status':
            start_response(b'200 OK', [])
        elif case == '/tuple-headers':
            start_response('200 OK', (('A', 'b'),))
        elif case == '/not-latin1':
            start_response('200 OK', [('X-Name', 'caf\u20ac')])
        elif case == '/newline':
            start_response('200 OK', [('X-Evil', 'a\r\nSet-Cookie: x=1')])
        elif case == '/bad-status':
            start_response('OK', [])
    except (TypeError, ValueError) as error:
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [type(error).__name__.encode()]
    return [b'accepted']
`}), "app.py", Options{})
	for path, want := range map[string]string{
		"/bytes-status": "TypeError", "/tuple-headers": "TypeError", "/not-latin1": "ValueError",
		"/newline": "ValueError", "/bad-status": "ValueError",
	} {
		if r := wsgitest.Get(a, path); r.Body != want {
			t.Errorf("%s: %d %q; want %s raised in Python\n%s", path, r.Code, r.Body, want, r.Log)
		}
	}
}

// TestWsgiErrors: what the app writes to wsgi.errors reaches the server's
// log.
func TestWsgiErrors(t *testing.T) {
	needPython(t)
	a := start(t, project(t, map[string]string{"app.py": `
def app(environ, start_response):
    errors = environ['wsgi.errors']
    errors.write('first line\n')
    errors.writelines(['second ', 'line\n'])
    errors.write('no newline, flushed at the end')
    print('via print', file=errors)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok']
`}), "app.py", Options{})
	r := wsgitest.Get(a, "/")
	for _, want := range []string{"first line\n", "second line\n", "via print\n", "no newline, flushed at the end"} {
		if !strings.Contains(r.Log, want) {
			t.Errorf("the log lacks %q:\n%s", want, r.Log)
		}
	}
}

// TestFileWrapper: wsgi.file_wrapper serves a file in blocks and closes it.
func TestFileWrapper(t *testing.T) {
	needPython(t)
	content := strings.Repeat("0123456789", 1000)
	a := start(t, project(t, map[string]string{"data.txt": content, "app.py": `
import os

def app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    f = open(os.path.join(os.path.dirname(__file__), 'data.txt'), 'rb')
    wrapper = environ['wsgi.file_wrapper'](f, 4096)
    class Watch:
        def __iter__(self):
            return iter(wrapper)
        def close(self):
            wrapper.close()
            environ['wsgi.errors'].write('file closed: %s\n' % f.closed)
    return Watch()
`}), "app.py", Options{})
	r := wsgitest.Get(a, "/")
	if r.Body != content || !strings.Contains(r.Log, "file closed: True") {
		t.Errorf("%d, %d bytes\n%s", r.Code, len(r.Body), r.Log)
	}
}

// TestInputMethods: read(size), read(), readline(size), readlines(hint)
// and iteration; reading past the end returns b"" at once.
func TestInputMethods(t *testing.T) {
	needPython(t)
	a := start(t, project(t, map[string]string{"app.py": `
def app(environ, start_response):
    stream = environ['wsgi.input']
    case = environ['PATH_INFO']
    if case == '/read':
        out = [stream.read(3), stream.read(0), stream.read(), stream.read(), stream.read(5)]
    elif case == '/readline':
        out = [stream.readline(2), stream.readline(), stream.readline(100), stream.readline(), stream.readline()]
    elif case == '/readlines':
        out = [b'|'.join(stream.readlines(4)), b'|'.join(stream.readlines())]
    else:
        out = [b'|'.join(line for line in stream)]
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [repr(out).encode()]
`}), "app.py", Options{})
	body := "ab\ncdef\ngh\nlast"
	for path, want := range map[string]string{
		"/read":      `[b'ab\n', b'', b'cdef\ngh\nlast', b'', b'']`,
		"/readline":  `[b'ab', b'\n', b'cdef\n', b'gh\n', b'last']`,
		"/readlines": `[b'ab\n|cdef\n', b'gh\n|last']`,
		"/iter":      `[b'ab\n|cdef\n|gh\n|last']`,
	} {
		r := wsgitest.Do(a, httptest.NewRequest("POST", path, strings.NewReader(body)))
		if r.Body != want {
			t.Errorf("%s: %q; want %q\n%s", path, r.Body, want, r.Log)
		}
	}
}

// TestExceptionReachesGateway: an exception is an *Exception the gateway
// reports, with the Python traceback and the user's frames.
func TestExceptionReachesGateway(t *testing.T) {
	needPython(t)
	dir := project(t, map[string]string{"app.py": `
import helpers

def app(environ, start_response):
    return helpers.explode(environ)
`, "helpers.py": `
def explode(environ):
    return {}['missing']
`})
	a := start(t, dir, "app.py", Options{})
	var failure *wsgi.Failure
	g := &wsgi.Gateway{App: a, Log: wsgi.LogTo(log.New(io.Discard, "", 0)), ErrorPage: func(w http.ResponseWriter, r *http.Request, f *wsgi.Failure) {
		failure = f
		wsgi.PlainErrorPage(w, r, f)
	}}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || failure == nil {
		t.Fatalf("%d, failure %v", rec.Code, failure)
	}
	var exc *Exception
	if !errors.As(failure.Err, &exc) {
		t.Fatalf("%T %v is not an *Exception", failure.Err, failure.Err)
	}
	if exc.Type != "KeyError" || exc.Error() != "KeyError: 'missing'" {
		t.Errorf("exception %q", exc.Error())
	}
	if !strings.Contains(string(failure.Stack), "Traceback (most recent call last)") || strings.Contains(string(failure.Stack), "wsgo_worker.py") {
		t.Errorf("stack:\n%s", failure.Stack)
	}
	if len(exc.Frames) != 2 {
		t.Fatalf("frames %+v", exc.Frames)
	}
	inner, outer := exc.Frames[0], exc.Frames[1]
	if !strings.HasSuffix(inner.File, "/helpers.py") || inner.Line != 3 || inner.Function != "explode" || inner.Source != "return {}['missing']" || !inner.User {
		t.Errorf("innermost frame %+v", inner)
	}
	if !strings.HasSuffix(outer.File, "/app.py") || outer.Line != 5 || !outer.User {
		t.Errorf("outer frame %+v", outer)
	}
}
