package apps_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/apps"
	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

func TestDemo(t *testing.T) {
	resp := wsgitest.Get(wsgi.AppFunc(apps.Demo), "/get/prefix?ip=")
	if resp.Status != "200 OK" {
		t.Errorf("status %q", resp.Status)
	}
	if ct := resp.Header.Get("content-type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(resp.Body)) {
		t.Errorf("Content-Length %q for a body of %d bytes", cl, len(resp.Body))
	}
	want := `The request method was GET
The request path info was /get/prefix
The remote host was 192.0.2.1
The query string was ip=

`
	head, dump, _ := strings.Cut(resp.Body, "\n\n")
	if head+"\n\n" != want {
		t.Errorf("body:\n%s\nwant it to begin:\n%s", resp.Body, want)
	}
	for _, line := range []string{`PATH_INFO = "/get/prefix"`, `QUERY_STRING = "ip="`, "wsgi.version = (1, 0)"} {
		if !strings.Contains(dump, "\n"+line+"\n") {
			t.Errorf("dump lacks %q:\n%s", line, dump)
		}
	}
}

func TestDump(t *testing.T) {
	env := wsgi.Environ{
		"REQUEST_METHOD":   "GET",
		"PATH_INFO":        "/get/prefix",
		"SCRIPT_NAME":      "",
		"HTTP_X":           "a \"b\"\n\x00",
		"wsgi.version":     wsgi.Version{Major: 1, Minor: 0},
		"wsgi.multithread": true,
		"wsgi.input":       strings.NewReader(""),
		"wsgo.context":     context.Background(),
		"wsgo.count":       3,
	}
	want := `HTTP_X = "a \"b\"\n\x00"
PATH_INFO = "/get/prefix"
REQUEST_METHOD = "GET"
SCRIPT_NAME = ""
wsgi.input = <*strings.Reader>
wsgi.multithread = true
wsgi.version = (1, 0)
wsgo.context = <context.backgroundCtx>
wsgo.count = 3
`
	if got := apps.Dump(env); got != want {
		t.Errorf("Dump:\n%s\nwant:\n%s", got, want)
	}
}

// TestBuiltinsAreRegistered: importing the package registers its apps.
func TestBuiltinsAreRegistered(t *testing.T) {
	for _, name := range []string{"demo", "hello"} {
		if e, ok := wsgi.Lookup(name); !ok || e.Description == "" {
			t.Errorf("%s not registered with a description: %+v", name, e)
		}
	}
}
