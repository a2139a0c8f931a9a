package wsgi_test

import (
	"io"
	"iter"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/validate"
	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

var textPlain = wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}}

func ok(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	start("200 OK", textPlain)
	return wsgi.BodyString("ok")
}

// boom panics a level below the app, so that the stack has two frames of
// the app's own.
func boom() { panic("boom in a helper at /src/secret/path.go:12") }

// badStart gives start_response a header it must refuse.
func badStart(start wsgi.StartResponse) {
	start("200 OK", wsgi.Headers{{Name: "X-Bad", Value: "a\r\nb"}})
}

// TestPanicStackInTheLog: the log gets the stack of a panic, trimmed to the
// app's frames: none of the runtime's, the gateway's, the validator's or
// net/http's. A mounted app is named as the one that failed. No client sees
// any of it, a client on this machine included.
func TestPanicStackInTheLog(t *testing.T) {
	mounted := wsgi.NewDispatcher(wsgi.AppFunc(ok))
	err := mounted.Mount("/m", "m", wsgi.AppFunc(func(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		badStart(start)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	file := thisFile(t)
	tests := []struct {
		name string
		app  wsgi.App
		path string
		want []string // the log's lines begin so
	}{
		{"panic", wsgi.AppFunc(func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
			boom()
			return nil
		}), "/x", []string{
			`app "app" failed on GET "/x": panic: boom in a helper`,
			"github.com/wsgo/wsgo/wsgi_test.boom\n", "\t" + file + ":",
			"github.com/wsgo/wsgo/wsgi_test.TestPanicStackInTheLog.func", "\t" + file + ":",
		}},
		{"mounted, under the validator", validate.Wrap("test", mounted), "/m/x", []string{
			`app "m" failed on GET "/m/x": validate: app "m": control character in header`,
			"github.com/wsgo/wsgo/wsgi_test.badStart\n", "\t" + file + ":",
			"github.com/wsgo/wsgo/wsgi_test.TestPanicStackInTheLog.func", "\t" + file + ":",
			"github.com/wsgo/wsgo/wsgi.(*Dispatcher).ServeWSGI\n", "\t",
		}},
	}
	for _, tt := range tests {
		for _, remote := range []string{"127.0.0.1:5000", "[::1]:5000", "203.0.113.7:5000"} {
			t.Run(tt.name+"/"+remote, func(t *testing.T) {
				r := httptest.NewRequest("GET", tt.path, nil)
				r.RemoteAddr = remote
				r.Header.Set("Accept", "text/html")
				resp := wsgitest.Do(tt.app, r)
				lines := slices.Collect(strings.Lines(resp.Log))
				if len(lines) != len(tt.want) {
					t.Fatalf("log has %d lines, want %d:\n%s", len(lines), len(tt.want), resp.Log)
				}
				for i, line := range lines {
					if !strings.HasPrefix(line, tt.want[i]) {
						t.Errorf("log line %d: %q\nwant it to begin %q", i+1, line, tt.want[i])
					}
				}
				if resp.Code != 500 || resp.Body != "500 Internal Server Error\n" {
					t.Errorf("%d, shown to %s:\n%s", resp.Code, remote, resp.Body)
				}
			})
		}
	}
}

func thisFile(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return file
}

// TestHandlerHidesFailuresFromLocalClients: behind a reverse proxy on the
// same host every client is local, so wsgi.Handler shows none of them a
// stack, a panic's message or a file path. The standard logger gets them.
func TestHandlerHidesFailuresFromLocalClients(t *testing.T) {
	var logged strings.Builder
	log.SetOutput(&logged)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	srv := httptest.NewServer(wsgi.Handler(wsgi.AppFunc(func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
		boom()
		return nil
	})))
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("server at %s, not on loopback", srv.URL)
	}
	for _, accept := range []string{"text/html", "*/*"} {
		req, err := http.NewRequest("GET", srv.URL+"/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		resp.Write(&b)
		resp.Body.Close()
		page := b.String()
		if resp.StatusCode != 500 {
			t.Errorf("status %d", resp.StatusCode)
		}
		for _, leak := range []string{"boom", "panic", "goroutine", ".go", "wsgi_test", "secret", thisFile(t)} {
			if strings.Contains(page, leak) {
				t.Errorf("Accept %s: the response shows %q:\n%s", accept, leak, page)
			}
		}
	}
	if !strings.Contains(logged.String(), `app "app" failed on GET "/x": panic: boom in a helper`) || !strings.Contains(logged.String(), thisFile(t)) {
		t.Errorf("the standard log lacks the failure and its stack:\n%s", logged.String())
	}
}

// TestFailureFrames: a panic's Failure carries the whole stack as frames,
// from the frame that panicked (no runtime frame above it) down through the
// gateway, and the environ the app got; a broken rule carries the environ
// and no frames.
func TestFailureFrames(t *testing.T) {
	var got *wsgi.Failure
	page := func(w http.ResponseWriter, r *http.Request, f *wsgi.Failure) { got = f; wsgi.PlainErrorPage(w, r, f) }
	serve := func(app wsgi.AppFunc) {
		t.Helper()
		got = nil
		gw := &wsgi.Gateway{App: app, Log: wsgi.LogTo(log.New(io.Discard, "", 0)), ErrorPage: page}
		gw.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
		if got == nil {
			t.Fatal("no failure reported")
		}
	}
	serve(func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
		boom()
		return nil
	})
	var names []string
	for _, f := range got.Frames {
		names = append(names, f.Function)
	}
	if len(names) < 3 || names[0] != "github.com/wsgo/wsgo/wsgi_test.boom" || !strings.HasPrefix(names[1], "github.com/wsgo/wsgo/wsgi_test.TestFailureFrames.func") ||
		!slices.Contains(names, "github.com/wsgo/wsgo/wsgi.(*Gateway).ServeHTTP") {
		t.Errorf("frames: %q", names)
	}
	if got.Environ.PathInfo() != "/x" || got.Stack == nil {
		t.Errorf("environ %v, stack %q", got.Environ, got.Stack)
	}
	serve(func(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		return nil // no start_response: a broken rule, not a panic
	})
	if got.Frames != nil || got.Stack != nil || got.Environ.PathInfo() != "/x" {
		t.Errorf("a broken rule: frames %d, stack %q, environ %v", len(got.Frames), got.Stack, got.Environ)
	}
}
