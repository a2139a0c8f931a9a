package validate_test

import (
	"errors"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/apps"
	"github.com/wsgo/wsgo/apps/validate"
	"github.com/wsgo/wsgo/devserver"
)

var textPlain = apps.Headers{{Name: "Content-Type", Value: "text/plain"}}

func goodEnv() apps.Environ {
	return apps.Environ{
		"REQUEST_METHOD": "GET", "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SCRIPT_NAME": "",
		"PATH_INFO": "/", "QUERY_STRING": "", "wsgi.version": apps.Version{Major: 1, Minor: 0},
		"wsgi.url_scheme": "http", "wsgi.input": strings.NewReader(""), "wsgi.errors": io.Discard,
		"wsgi.multithread": true, "wsgi.multiprocess": false, "wsgi.run_once": false,
	}
}

func ok(env apps.Environ, start apps.StartResponse) iter.Seq[[]byte] {
	start("200 OK", textPlain)
	return apps.BodyString("ok")
}

// run calls the wrapped app as a server would and returns what it panicked with.
func run(app apps.App, env apps.Environ, stopAfter int) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err, _ = v.(error)
			if err == nil {
				panic(v)
			}
		}
	}()
	start := func(string, apps.Headers, ...error) func([]byte) error { return func([]byte) error { return nil } }
	body := validate.Wrap("t", app).ServeWSGI(env, start)
	n := 0
	body(func([]byte) bool { n++; return stopAfter == 0 || n < stopAfter })
	return nil
}

func TestEnvironRules(t *testing.T) {
	tests := []struct {
		rule   string
		change func(apps.Environ)
	}{
		{"environ lacks a required key", func(e apps.Environ) { delete(e, "SERVER_NAME") }},
		{"environ lacks a required key", func(e apps.Environ) { delete(e, "wsgi.errors") }},
		{"CGI values are strings", func(e apps.Environ) { e["CONTENT_LENGTH"] = 5 }},
		{"no HTTP_CONTENT_* keys", func(e apps.Environ) { e["HTTP_CONTENT_TYPE"] = "text/plain" }},
		{"no HTTP_CONTENT_* keys", func(e apps.Environ) { e["HTTP_CONTENT_LENGTH"] = "1" }},
		{"wsgi.version is (1, 0)", func(e apps.Environ) { e["wsgi.version"] = apps.Version{Major: 2} }},
		{"wsgi.url_scheme is http or https", func(e apps.Environ) { e["wsgi.url_scheme"] = "ftp" }},
		{"wsgi.input is a reader", func(e apps.Environ) { e["wsgi.input"] = "body" }},
		{"wsgi.errors is a writer", func(e apps.Environ) { e["wsgi.errors"] = 1 }},
		{"wsgi flags are booleans", func(e apps.Environ) { e["wsgi.run_once"] = "no" }},
		{"REQUEST_METHOD is not empty", func(e apps.Environ) { e["REQUEST_METHOD"] = "" }},
		{"SCRIPT_NAME is empty or starts with /", func(e apps.Environ) { e["SCRIPT_NAME"] = "app" }},
		{"SCRIPT_NAME is never /", func(e apps.Environ) { e["SCRIPT_NAME"] = "/" }},
		{"PATH_INFO is empty or starts with /", func(e apps.Environ) { e["PATH_INFO"] = "x" }},
		{"PATH_INFO is present when SCRIPT_NAME is empty", func(e apps.Environ) { delete(e, "PATH_INFO") }},
		{"CONTENT_LENGTH is a whole number", func(e apps.Environ) { e["CONTENT_LENGTH"] = "-3" }},
	}
	for _, tt := range tests {
		env := goodEnv()
		tt.change(env)
		err := run(apps.AppFunc(ok), env, 0)
		var ve *validate.Error
		if !errors.As(err, &ve) || ve.Rule != tt.rule || ve.App != "t" {
			t.Errorf("want rule %q, got %v", tt.rule, err)
		}
	}
	if err := run(apps.AppFunc(ok), goodEnv(), 0); err != nil {
		t.Errorf("a good environ failed: %v", err)
	}
}

func TestWarnings(t *testing.T) {
	var log strings.Builder
	env := goodEnv()
	env["wsgi.errors"] = &log
	env["REQUEST_METHOD"] = "BREW"
	delete(env, "QUERY_STRING")
	if err := run(apps.AppFunc(ok), env, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), `unusual REQUEST_METHOD "BREW"`) || !strings.Contains(log.String(), "QUERY_STRING is missing") {
		t.Errorf("warnings: %q", log.String())
	}
}

func startWith(status string, headers apps.Headers) apps.AppFunc {
	return func(_ apps.Environ, start apps.StartResponse) iter.Seq[[]byte] {
		start(status, headers)
		return apps.Body()
	}
}

func h(name, value string) apps.Header { return apps.Header{Name: name, Value: value} }

func TestResponseRules(t *testing.T) {
	tests := []struct {
		rule string
		app  apps.AppFunc
		stop int
	}{
		{"status is three digits and a space", startWith("200", textPlain), 0},
		{"status code is a number of at least 100", startWith("abc OK", textPlain), 0},
		{"status code is a number of at least 100", startWith("099 Low", textPlain), 0},
		{"status has a reason phrase", startWith("200 ", textPlain), 0},
		{"no Status header", startWith("200 OK", apps.Headers{h("Content-Type", "a"), h("Status", "200")}), 0},
		{"header names are letters, digits, - and _", startWith("200 OK", apps.Headers{h("Content-Type", "a"), h("X.Y", "1")}), 0},
		{"header names are letters, digits, - and _", startWith("200 OK", apps.Headers{h("Content-Type", "a"), h("X-", "1")}), 0},
		{"header names are letters, digits, - and _", startWith("200 OK", apps.Headers{h("Content-Type", "a"), h("1X", "1")}), 0},
		{"header values hold no control characters", startWith("200 OK", apps.Headers{h("Content-Type", "a\tb")}), 0},
		{"Content-Type is required", startWith("200 OK", nil), 0},
		{"no Content-Type on 204 or 304", startWith("204 No Content", textPlain), 0},
		{"no Content-Type on 204 or 304", startWith("304 Not Modified", textPlain), 0},
		{"start_response once", func(_ apps.Environ, start apps.StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			start("200 OK", textPlain)
			return apps.Body()
		}, 0},
		{"start_response before the body", func(apps.Environ, apps.StartResponse) iter.Seq[[]byte] {
			return apps.BodyString("early")
		}, 0},
		{"start_response before the body", func(apps.Environ, apps.StartResponse) iter.Seq[[]byte] {
			return apps.Body()
		}, 0},
		{"write before the body", func(_ apps.Environ, start apps.StartResponse) iter.Seq[[]byte] {
			write := start("200 OK", textPlain)
			return func(yield func([]byte) bool) {
				yield([]byte("first"))
				write([]byte("late"))
			}
		}, 0},
		{"the body stops when asked", func(_ apps.Environ, start apps.StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			return func(yield func([]byte) bool) {
				yield([]byte("a")) // ignores that the server stopped
				yield([]byte("b"))
			}
		}, 1},
		{"body is nil", func(_ apps.Environ, start apps.StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			return nil
		}, 0},
	}
	for _, tt := range tests {
		err := run(tt.app, goodEnv(), tt.stop)
		var ve *validate.Error
		if !errors.As(err, &ve) || ve.Rule != tt.rule {
			t.Errorf("want rule %q, got %v", tt.rule, err)
		}
	}
	// Legal: excInfo replaces, 204 without Content-Type, a body of empty chunks first.
	for _, app := range []apps.AppFunc{
		startWith("204 No Content", nil),
		func(_ apps.Environ, start apps.StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			start("500 Oops", textPlain, errors.New("failed"))
			return apps.Body(nil, []byte("x"))
		},
	} {
		if err := run(app, goodEnv(), 0); err != nil {
			t.Errorf("legal app failed: %v", err)
		}
	}
}

// getVia serves app under the gateway as "shop" and GETs path from it.
func getVia(t *testing.T, app apps.App, path string) (int, string) {
	t.Helper()
	srv := httptest.NewServer(&devserver.Gateway{App: app, Name: "shop", Log: devserver.NewLogger(io.Discard, false)})
	defer srv.Close()
	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

// TestUnderTheGateway: a violation becomes a 500 naming the rule and the
// app, in place of the malformed response.
func TestUnderTheGateway(t *testing.T) {
	code, body := getVia(t, validate.Wrap("shop", apps.AppFunc(startWith("200 OK", nil))), "/")
	if code != 500 || !strings.Contains(body, `validate: app "shop": Content-Type is required`) {
		t.Errorf("%d %s", code, body)
	}
}

// TestMountedAppIsBlamed: when a mounted app breaks a rule, the rule and
// the 500 page name that app, not the root app the server runs.
func TestMountedAppIsBlamed(t *testing.T) {
	d := apps.NewDispatcher(apps.AppFunc(ok))
	if err := d.Mount("/crlf", "crlf", startWith("200 OK", apps.Headers{h("X-Bad", "a\r\nb")})); err != nil {
		t.Fatal(err)
	}
	_, body := getVia(t, validate.Wrap("shop", d), "/crlf/")
	want := "500 Internal Server Error: app \"crlf\" failed\n\nvalidate: app \"crlf\": header values hold no control characters"
	if !strings.HasPrefix(body, want) {
		t.Errorf("page:\n%s\nwant it to begin:\n%s", body, want)
	}
}
