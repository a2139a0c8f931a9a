package apps

import (
	"bytes"
	"context"
	"iter"
	"strconv"
	"strings"
	"testing"
)

// call runs app the way a server does and returns status, headers and body.
func call(app App, env Environ) (string, Headers, string) {
	var status string
	var headers Headers
	var body bytes.Buffer
	start := func(s string, h Headers, _ ...error) func([]byte) error {
		status, headers = s, h
		return func(p []byte) error { body.Write(p); return nil }
	}
	if b := app.ServeWSGI(env, start); b != nil {
		for chunk := range b {
			body.Write(chunk)
		}
	}
	return status, headers, body.String()
}

func TestDemo(t *testing.T) {
	env := Environ{
		"REQUEST_METHOD":   "GET",
		"PATH_INFO":        "/get/prefix",
		"QUERY_STRING":     "ip=",
		"REMOTE_ADDR":      "127.0.0.1",
		"SCRIPT_NAME":      "",
		"wsgi.version":     Version{1, 0},
		"wsgi.multithread": true,
		"wsgi.input":       strings.NewReader(""),
		"wsgo.context":     context.Background(),
		"wsgo.count":       3,
	}
	status, headers, body := call(AppFunc(Demo), env)
	if status != "200 OK" {
		t.Errorf("status %q", status)
	}
	if ct := headers.Get("content-type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cl := headers.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length %q for a body of %d bytes", cl, len(body))
	}
	want := `The request method was GET
The request path info was /get/prefix
The remote host was 127.0.0.1
The query string was ip=

PATH_INFO = "/get/prefix"
QUERY_STRING = "ip="
REMOTE_ADDR = "127.0.0.1"
REQUEST_METHOD = "GET"
SCRIPT_NAME = ""
wsgi.input = <*strings.Reader>
wsgi.multithread = true
wsgi.version = (1, 0)
wsgo.context = <context.backgroundCtx>
wsgo.count = 3
`
	if body != want {
		t.Errorf("body:\n%s\nwant:\n%s", body, want)
	}
}

func TestDumpQuotesStrings(t *testing.T) {
	got := Dump(Environ{"HTTP_X": "a \"b\"\n\x00"})
	if want := `HTTP_X = "a \"b\"\n\x00"` + "\n"; got != want {
		t.Errorf("Dump = %q, want %q", got, want)
	}
}

func TestEnvironAccessors(t *testing.T) {
	env := Environ{
		"CONTENT_TYPE":     "text/html",
		"HTTP_USER_AGENT":  "curl",
		"HTTP_X_REQ_ID":    "7",
		"SCRIPT_NAME":      "/app",
		"PATH_INFO":        "/x",
		"QUERY_STRING":     "a=1",
		"REQUEST_METHOD":   "POST",
		"REMOTE_ADDR":      "::1",
		"CONTENT_LENGTH":   42, // not a string: Get ignores it
		"wsgi.url_scheme":  "http",
		"wsgo.unrelated":   struct{}{},
		"wsgi.multithread": true,
	}
	for _, c := range []struct{ got, want string }{
		{env.Header("Content-Type"), "text/html"},
		{env.Header("user-agent"), "curl"},
		{env.Header("X-Req-Id"), "7"},
		{env.Header("Content-Length"), ""},
		{env.ScriptName(), "/app"},
		{env.PathInfo(), "/x"},
		{env.QueryString(), "a=1"},
		{env.Method(), "POST"},
		{env.RemoteAddr(), "::1"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	// Missing streams and context fall back to harmless values.
	empty := Environ{}
	if n, _ := empty.Input().Read(make([]byte, 1)); n != 0 {
		t.Error("Input of an empty environ read data")
	}
	if _, err := empty.Errors().Write([]byte("x")); err != nil {
		t.Error(err)
	}
	if empty.Context() == nil {
		t.Error("nil Context")
	}
}

func TestBodyHelpers(t *testing.T) {
	collect := func(s iter.Seq[[]byte]) []string {
		var out []string
		for c := range s {
			out = append(out, string(c))
		}
		return out
	}
	if got := collect(Body([]byte("a"), nil, []byte("b"))); len(got) != 3 || got[0] != "a" || got[2] != "b" {
		t.Errorf("Body chunks %q", got)
	}
	if got := collect(BodyString("a", "b", "c")); len(got) != 1 || got[0] != "abc" {
		t.Errorf("BodyString chunks %q, want one chunk", got)
	}
	// A consumer that stops early stops the body.
	n := 0
	for range Body([]byte("1"), []byte("2"), []byte("3")) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("iterated %d times after break", n)
	}
}

func TestResponseErrorText(t *testing.T) {
	err := &ResponseError{Rule: "hop-by-hop header", Detail: `"Connection"`}
	if got := err.Error(); got != `start_response: hop-by-hop header: "Connection"` {
		t.Errorf("Error() = %q", got)
	}
}
