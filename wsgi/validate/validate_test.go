package validate_test

import (
	"errors"
	"io"
	"iter"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/validate"
	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

var textPlain = wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}}

func goodEnv() wsgi.Environ {
	return wsgi.Environ{
		"REQUEST_METHOD": "GET", "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SCRIPT_NAME": "",
		"PATH_INFO": "/", "QUERY_STRING": "", "wsgi.version": wsgi.Version{Major: 1, Minor: 0},
		"wsgi.url_scheme": "http", "wsgi.input": strings.NewReader(""), "wsgi.errors": io.Discard,
		"wsgi.multithread": true, "wsgi.multiprocess": false, "wsgi.run_once": false,
	}
}

func ok(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	start("200 OK", textPlain)
	return wsgi.BodyString("ok")
}

// run calls the wrapped app as a server would and returns what it panicked with.
func run(app wsgi.App, env wsgi.Environ, stopAfter int) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err, _ = v.(error)
			if err == nil {
				panic(v)
			}
		}
	}()
	start := func(string, wsgi.Headers, ...error) func([]byte) error { return func([]byte) error { return nil } }
	body := validate.Wrap("t", app).ServeWSGI(env, start)
	n := 0
	body(func([]byte) bool { n++; return stopAfter == 0 || n < stopAfter })
	return nil
}

func TestEnvironRules(t *testing.T) {
	tests := []struct {
		rule   string
		change func(wsgi.Environ)
	}{
		{"environ lacks a required key", func(e wsgi.Environ) { delete(e, "SERVER_NAME") }},
		{"environ lacks a required key", func(e wsgi.Environ) { delete(e, "wsgi.errors") }},
		{"CGI values are strings", func(e wsgi.Environ) { e["CONTENT_LENGTH"] = 5 }},
		{"no HTTP_CONTENT_* keys", func(e wsgi.Environ) { e["HTTP_CONTENT_TYPE"] = "text/plain" }},
		{"no HTTP_CONTENT_* keys", func(e wsgi.Environ) { e["HTTP_CONTENT_LENGTH"] = "1" }},
		{"wsgi.version is (1, 0)", func(e wsgi.Environ) { e["wsgi.version"] = wsgi.Version{Major: 2} }},
		{"wsgi.url_scheme is http or https", func(e wsgi.Environ) { e["wsgi.url_scheme"] = "ftp" }},
		{"wsgi.input is a reader", func(e wsgi.Environ) { e["wsgi.input"] = "body" }},
		{"wsgi.errors is a writer", func(e wsgi.Environ) { e["wsgi.errors"] = 1 }},
		{"wsgi flags are booleans", func(e wsgi.Environ) { e["wsgi.run_once"] = "no" }},
		{"REQUEST_METHOD is not empty", func(e wsgi.Environ) { e["REQUEST_METHOD"] = "" }},
		{"SCRIPT_NAME is empty or starts with /", func(e wsgi.Environ) { e["SCRIPT_NAME"] = "app" }},
		{"SCRIPT_NAME is never /", func(e wsgi.Environ) { e["SCRIPT_NAME"] = "/" }},
		{"PATH_INFO is empty or starts with /", func(e wsgi.Environ) { e["PATH_INFO"] = "x" }},
		{"PATH_INFO is present when SCRIPT_NAME is empty", func(e wsgi.Environ) { delete(e, "PATH_INFO") }},
		{"CONTENT_LENGTH is a whole number", func(e wsgi.Environ) { e["CONTENT_LENGTH"] = "-3" }},
	}
	for _, tt := range tests {
		env := goodEnv()
		tt.change(env)
		err := run(wsgi.AppFunc(ok), env, 0)
		var ve *validate.Error
		if !errors.As(err, &ve) || ve.Rule != tt.rule || ve.App != "t" {
			t.Errorf("want rule %q, got %v", tt.rule, err)
		}
	}
	if err := run(wsgi.AppFunc(ok), goodEnv(), 0); err != nil {
		t.Errorf("a good environ failed: %v", err)
	}
}

func TestWarnings(t *testing.T) {
	var log strings.Builder
	env := goodEnv()
	env["wsgi.errors"] = &log
	env["REQUEST_METHOD"] = "BREW"
	delete(env, "QUERY_STRING")
	if err := run(wsgi.AppFunc(ok), env, 0); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), `unusual REQUEST_METHOD "BREW"`) || !strings.Contains(log.String(), "QUERY_STRING is missing") {
		t.Errorf("warnings: %q", log.String())
	}
}

func startWith(status string, headers wsgi.Headers) wsgi.AppFunc {
	return func(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start(status, headers)
		return wsgi.Body()
	}
}

func h(name, value string) wsgi.Header { return wsgi.Header{Name: name, Value: value} }

func TestResponseRules(t *testing.T) {
	tests := []struct {
		rule string
		app  wsgi.AppFunc
		stop int
	}{
		{"malformed status", startWith("200", textPlain), 0},
		{"malformed status", startWith("abc OK", textPlain), 0},
		{"malformed status", startWith("099 Low", textPlain), 0},
		{"informational status", startWith("103 Early Hints", textPlain), 0},
		{"status has a reason phrase", startWith("200 ", textPlain), 0},
		{"status header", startWith("200 OK", wsgi.Headers{h("Content-Type", "a"), h("Status", "200")}), 0},
		{"bad header name", startWith("200 OK", wsgi.Headers{h("Content-Type", "a"), h("Bad Name", "1")}), 0},
		{"bad header name", startWith("200 OK", wsgi.Headers{h("Content-Type", "a"), h("X:Y", "1")}), 0},
		{"hop-by-hop header", startWith("200 OK", wsgi.Headers{h("Content-Type", "a"), h("Connection", "close")}), 0},
		{"control character in header", startWith("200 OK", wsgi.Headers{h("Content-Type", "a\x01b")}), 0},
		{"Content-Type is required", startWith("200 OK", nil), 0},
		{"no Content-Type on 204 or 304", startWith("204 No Content", textPlain), 0},
		{"no Content-Type on 204 or 304", startWith("304 Not Modified", textPlain), 0},
		{"start_response once", func(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			start("200 OK", textPlain)
			return wsgi.Body()
		}, 0},
		{"start_response before the body", func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
			return wsgi.BodyString("early")
		}, 0},
		{"start_response before the body", func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
			return wsgi.Body()
		}, 0},
		{"write before the body", func(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
			write := start("200 OK", textPlain)
			return func(yield func([]byte) bool) {
				yield([]byte("first"))
				write([]byte("late"))
			}
		}, 0},
		{"the body stops when asked", func(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			return func(yield func([]byte) bool) {
				yield([]byte("a")) // ignores that the server stopped
				yield([]byte("b"))
			}
		}, 1},
		{"body is nil", func(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
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
	for _, app := range []wsgi.AppFunc{
		startWith("204 No Content", nil),
		func(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
			start("200 OK", textPlain)
			start("500 Oops", textPlain, errors.New("failed"))
			return wsgi.Body(nil, []byte("x"))
		},
	} {
		if err := run(app, goodEnv(), 0); err != nil {
			t.Errorf("legal app failed: %v", err)
		}
	}
}

// TestUnderTheGateway: a violation becomes a 500 in place of the malformed
// response, and a log line naming the rule and the app.
func TestUnderTheGateway(t *testing.T) {
	resp := wsgitest.Get(validate.Wrap("shop", wsgi.AppFunc(startWith("200 OK", nil))), "/")
	if resp.Code != 500 || !strings.Contains(resp.Log, `validate: app "shop": Content-Type is required`) {
		t.Errorf("%d, log:\n%s", resp.Code, resp.Log)
	}
}

// TestMountedAppIsBlamed: when a mounted app breaks a rule, the rule and
// the log name that app, not the root app the server runs.
func TestMountedAppIsBlamed(t *testing.T) {
	d := wsgi.NewDispatcher(wsgi.AppFunc(ok))
	if err := d.Mount("/crlf", "crlf", startWith("200 OK", wsgi.Headers{h("X-Bad", "a\r\nb")})); err != nil {
		t.Fatal(err)
	}
	resp := wsgitest.Get(validate.Wrap("shop", d), "/crlf/")
	want := `app "crlf" failed on GET "/crlf/": validate: app "crlf": control character in header`
	if resp.Code != 500 || !strings.HasPrefix(resp.Log, want) {
		t.Errorf("%d, log:\n%s\nwant it to begin:\n%s", resp.Code, resp.Log, want)
	}
}

// TestOneRuleBook: the validator refuses exactly what the gateway refuses,
// in the same words, and adds only wsgiref's own rules.
func TestOneRuleBook(t *testing.T) {
	for _, hd := range []wsgi.Header{h("X.Y", "1"), h("X_Y", "1"), h("X", "a\tb"), h("Keep-Alive", "1"), h("X", "a\x7fb"), h("", "x")} {
		gwErr := wsgi.CheckHeader(hd)
		err := run(startWith("200 OK", wsgi.Headers{h("Content-Type", "a"), hd}), goodEnv(), 0)
		var re *wsgi.ResponseError
		var ve *validate.Error
		switch {
		case gwErr == nil && err != nil:
			t.Errorf("%q: the gateway sends it, the validator refuses it: %v", hd, err)
		case gwErr != nil && (!errors.As(gwErr, &re) || !errors.As(err, &ve) || ve.Rule != re.Rule):
			t.Errorf("%q: the gateway refuses it (%v), the validator says %v", hd, gwErr, err)
		}
	}
}
