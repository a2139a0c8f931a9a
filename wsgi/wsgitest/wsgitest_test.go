package wsgitest

import (
	"iter"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/wsgi"
)

func TestDoPostsABody(t *testing.T) {
	echo := wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		var b strings.Builder
		b.WriteString(env.Method() + " " + env.Header("Content-Type") + " ")
		buf := make([]byte, 64)
		n, _ := env.Input().Read(buf)
		b.Write(buf[:n])
		env.Errors().Write([]byte("read the body\n"))
		start("201 Created", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}, {Name: "X-A", Value: "1"}, {Name: "X-A", Value: "2"}})
		return wsgi.BodyString(b.String())
	})
	r := httptest.NewRequest("POST", "/items", strings.NewReader("a=1"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp := Do(echo, r)
	if resp.Code != 201 || resp.Status != "201 Created" || resp.Body != "POST application/x-www-form-urlencoded a=1" {
		t.Errorf("%s %q", resp.Status, resp.Body)
	}
	if got := resp.Header.Values("X-A"); len(got) != 2 || got[1] != "2" || resp.Header.Get("Content-Length") != "42" {
		t.Errorf("headers %v", resp.Header)
	}
	if resp.Log != "read the body\n" || resp.Aborted {
		t.Errorf("log %q, aborted %v", resp.Log, resp.Aborted)
	}
}

// A failure after the headers went out aborts the response, as a server
// cuts the connection.
func TestDoReportsAnAbortedResponse(t *testing.T) {
	app := wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		write := start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
		write([]byte("partial"))
		panic("mid-body")
	})
	resp := Get(app, "/")
	if !resp.Aborted || resp.Code != 200 || resp.Body != "partial" || !strings.Contains(resp.Log, "panic: mid-body") {
		t.Errorf("aborted %v, %d %q, log %q", resp.Aborted, resp.Code, resp.Body, resp.Log)
	}
}
