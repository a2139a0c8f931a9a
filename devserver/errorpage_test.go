package devserver

import (
	"errors"
	"html"
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/wsgi"
)

// boom panics a level below the app, so that the stack has two frames of
// the app's own.
func boom() { panic("boom in a helper") }

// TestDevGatewayShowsDetailsToLocalClients: behind the development server's
// gateway, a client on this machine gets the panic's message and the app's
// stack; anyone else a plain 500. The log gets the failure, in red, with
// the stack indented under it, whoever the client.
func TestDevGatewayShowsDetailsToLocalClients(t *testing.T) {
	app := wsgi.AppFunc(func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
		boom()
		return nil
	})
	file := thisFile(t)
	want := []string{
		`app "test" failed on GET /x: panic: boom in a helper`,
		"    github.com/wsgo/wsgo/devserver.boom\n", "        " + file + ":",
		"    github.com/wsgo/wsgo/devserver.TestDevGatewayShowsDetailsToLocalClients.func", "        " + file + ":",
	}
	for _, remote := range []string{"127.0.0.1:5000", "[::1]:5000", "203.0.113.7:5000"} {
		t.Run(remote, func(t *testing.T) {
			var log syncbuf.Buffer
			r := httptest.NewRequest("GET", "/x", nil)
			r.Host = "127.0.0.1:8000"
			r.RemoteAddr = remote
			w := httptest.NewRecorder()
			NewGateway(app, "test", NewLogger(&log, false)).ServeHTTP(w, r)
			want := want
			if !isLoopback(remote) {
				want = append(want, "    details not shown to this client: it came from "+remote+", not from this machine")
			}
			lines := slices.Collect(strings.Lines(log.String()))
			if len(lines) != len(want) {
				t.Fatalf("log has %d lines, want %d:\n%s", len(lines), len(want), log.String())
			}
			for i, line := range lines {
				if !strings.HasPrefix(line, want[i]) {
					t.Errorf("log line %d: %q\nwant it to begin %q", i+1, line, want[i])
				}
			}
			body := w.Body.String()
			shown := strings.Contains(body, "boom in a helper") && strings.Contains(body, "devserver.boom") && strings.Contains(body, file)
			if w.Code != 500 || isLoopback(remote) != shown {
				t.Errorf("%d, details shown to %s: %v\n%s", w.Code, remote, shown, body)
			}
			if !isLoopback(remote) && body != "500 Internal Server Error\n" {
				t.Errorf("%s gets more than the status:\n%s", remote, body)
			}
		})
	}
}

func thisFile(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return file
}

// TestErrorPages: the 500 page for an app's failure and the page for a
// failed build or crash show their details to clients on this machine, as
// HTML to browsers, and a bare 500 to anyone else.
func TestErrorPages(t *testing.T) {
	appFailure := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ErrorPage(w, r, &wsgi.Failure{App: "demo", Err: errors.New("secret <detail>"), Stack: []byte("main.boom\n\t/src/main.go:12\n")})
	})
	buildFailure := Problem("Build failed\n\nsecret <detail>\n./main.go:12:5: undefined: x\n")
	tests := []struct {
		name, remote, accept string
		want, wantNot        []string
		contentType          string
	}{
		{"loopback browser", "127.0.0.1:5000", "text/html,*/*", []string{"<!doctype html>", "secret &lt;detail&gt;", "<mark>", "main.go:12"}, nil, "text/html; charset=utf-8"},
		{"loopback curl", "[::1]:5000", "*/*", []string{"secret <detail>", "main.go:12"}, []string{"<html", "<mark>"}, "text/plain; charset=utf-8"},
		{"another host", "203.0.113.7:5000", "text/html", []string{"500 Internal Server Error"}, []string{"secret", "main.go", "failed"}, "text/plain; charset=utf-8"},
	}
	for _, page := range []struct {
		name    string
		h       http.Handler
		heading string // in the page for loopback clients
	}{
		{"app failure", appFailure, `500 Internal Server Error: app "demo" failed`},
		{"build failure", buildFailure, "Build failed"},
	} {
		for _, tt := range tests {
			t.Run(page.name+"/"+tt.name, func(t *testing.T) {
				r := httptest.NewRequest("GET", "/x", nil)
				r.Host = "127.0.0.1:8000"
				r.RemoteAddr = tt.remote
				r.Header.Set("Accept", tt.accept)
				w := httptest.NewRecorder()
				page.h.ServeHTTP(w, r)
				body := w.Body.String()
				if w.Code != 500 || w.Header().Get("Content-Type") != tt.contentType {
					t.Errorf("%d %q", w.Code, w.Header().Get("Content-Type"))
				}
				want := tt.want
				switch {
				case !isLoopback(tt.remote):
				case strings.HasPrefix(tt.contentType, "text/html"):
					want = append(want, "<h1>"+html.EscapeString(page.heading)+"</h1>")
				default:
					want = append(want, page.heading+"\n\nsecret <detail>\n")
				}
				for _, s := range want {
					if !strings.Contains(body, s) {
						t.Errorf("page lacks %q:\n%s", s, body)
					}
				}
				for _, s := range tt.wantNot {
					if strings.Contains(body, s) {
						t.Errorf("page shows %q:\n%s", s, body)
					}
				}
			})
		}
	}
}

// TestDetailsOnlyUnderLoopbackNames: a client on this machine sees the
// details only when it names this machine; a page of another site whose
// name was made to resolve to 127.0.0.1 (DNS rebinding) sends its own name,
// and gets the status alone.
func TestDetailsOnlyUnderLoopbackNames(t *testing.T) {
	for host, shown := range map[string]bool{
		"127.0.0.1:8000":        true,
		"localhost:8000":        true,
		"LOCALHOST.":            true,
		"app.localhost:8000":    true,
		"[::1]:8000":            true,
		"":                      true, // HTTP/1.0 sends none
		"attacker.example:8000": false,
		"127.0.0.1.nip.io":      false,
		"localhost.example":     false,
	} {
		r := httptest.NewRequest("GET", "/x", nil)
		r.Host, r.RemoteAddr = host, "127.0.0.1:5000"
		w := httptest.NewRecorder()
		ErrorPage(w, r, &wsgi.Failure{App: "test", Err: errors.New("the secret")})
		if got := strings.Contains(w.Body.String(), "the secret"); got != shown {
			t.Errorf("Host %q: details shown %v, want %v:\n%s", host, got, shown, w.Body.String())
		}
		w = httptest.NewRecorder()
		Problem("Build failed\nthe secret").ServeHTTP(w, r)
		if got := strings.Contains(w.Body.String(), "the secret"); got != shown {
			t.Errorf("Host %q: build failure shown %v, want %v", host, got, shown)
		}
	}
}

// TestNoDetailsThroughAProxy: a request that came through a proxy on this
// machine (Via, X-Forwarded-For or Forwarded), or whose target is in the
// absolute form a proxy sends, is not the developer's browser's, whatever
// its peer and its Host: it gets the status alone, and the terminal says
// why.
func TestNoDetailsThroughAProxy(t *testing.T) {
	app := wsgi.AppFunc(func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] { panic("the secret") })
	for _, tt := range []struct{ request, why string }{
		{"GET /x HTTP/1.1\r\nHost: localhost\r\n", ""},
		{"GET /x HTTP/1.1\r\nHost: localhost\r\nVia: 1.1 nginx\r\n", "it came through a proxy (it has a Via header)"},
		{"GET /x HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: 203.0.113.7\r\n", "it came through a proxy (it has a X-Forwarded-For header)"},
		{"GET /x HTTP/1.1\r\nHost: localhost\r\nForwarded: for=203.0.113.7\r\n", "it came through a proxy (it has a Forwarded header)"},
		{"GET http://localhost/x HTTP/1.1\r\nHost: evil.example\r\n", `its request target "http://localhost/x" is not a path, as a browser sends`},
		{"GET /x HTTP/1.1\r\nHost: evil.example\r\n", `Host "evil.example" is not a loopback name`},
	} {
		var log syncbuf.Buffer
		srv := httptest.NewServer(NewGateway(app, "test", NewLogger(&log, false)))
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, tt.request+"Connection: close\r\n\r\n")
		out, _ := io.ReadAll(conn)
		conn.Close()
		srv.Close()
		request := strconv.Quote(tt.request)
		if shown := strings.Contains(string(out), "the secret"); shown != (tt.why == "") {
			t.Errorf("%s: details shown %v:\n%s", request, shown, out)
		}
		hint := "details not shown to this client: " + tt.why
		if got := strings.Contains(log.String(), hint); got != (tt.why != "") {
			t.Errorf("%s: the log does not say %q:\n%s", request, hint, log.String())
		}
	}
}

// TestFileLineFindsUnicodeNames: a file named in any script is a position.
func TestFileLineFindsUnicodeNames(t *testing.T) {
	for text, want := range map[string]string{
		"./café.go:3:1: undefined: x":    "./café.go",
		"sub/файл.go:12: syntax error":   "sub/файл.go",
		"/src/app/数据_1.go:7:2: declared": "/src/app/数据_1.go",
	} {
		m := fileLine.FindStringSubmatch(text)
		if m == nil || m[1] != want {
			t.Errorf("%q: found %q, want %q", text, m, want)
		}
	}
}
