package apps_test

import (
	"strings"
	"testing"

	"github.com/wsgo/wsgo/apps"
	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

func TestHello(t *testing.T) {
	h := apps.Hello()
	resp := wsgitest.Get(h, "/hello/%3Cscript%3E")
	if !strings.Contains(resp.Body, "Hello, &lt;script&gt;!") || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("name not escaped: %s", resp.Body)
	}
	resp = wsgitest.Get(h, "/api/hello/Ada%20%22L%22")
	if resp.Body != `{"hello":"Ada \"L\""}`+"\n" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("JSON: %q", resp.Body)
	}
	d := wsgi.NewDispatcher(h)
	if err := d.Mount("/hi", "hi", h); err != nil {
		t.Fatal(err)
	}
	if resp = wsgitest.Get(d, "/hi/"); !strings.Contains(resp.Body, `href="/hi/hello/Ada"`) {
		t.Errorf("index links ignore the mount: %s", resp.Body)
	}
}

func TestHelloRoutes(t *testing.T) {
	got := apps.Hello().Routes()
	want := []wsgi.Route{
		{Method: "GET", Path: "/{$}", Endpoint: "apps.helloIndex"},
		{Method: "GET", Path: "/hello/{name}", Endpoint: "apps.helloName"},
		{Method: "GET", Path: "/api/hello/{name}", Endpoint: "apps.helloJSON"},
	}
	if len(got) != len(want) {
		t.Fatalf("Routes() = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("route %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestHelloJSONAllocations: the JSON route is what bench/serve.sh measures;
// it encodes a struct, which costs one allocation where a map costs six.
func TestHelloJSONAllocations(t *testing.T) {
	h := apps.Hello()
	env := wsgi.Environ{"REQUEST_METHOD": "GET", "PATH_INFO": "/api/hello/bench", "HTTP_HOST": "h"}
	start := func(string, wsgi.Headers, ...error) func([]byte) error { return nil }
	var body []byte
	allocs := testing.AllocsPerRun(100, func() {
		for chunk := range h.ServeWSGI(env, start) {
			body = chunk
		}
	})
	if string(body) != `{"hello":"bench"}`+"\n" {
		t.Fatalf("body %q", body)
	}
	// The route match (4), the JSON and its newline, the headers, the body:
	// 11, and under the race detector now and then 12. A map costs 15.
	if allocs > 12 {
		t.Errorf("GET /api/hello/bench costs %.0f allocations, want at most 12", allocs)
	}
}
