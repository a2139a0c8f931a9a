// Package validate checks that an app and the server that runs it keep the
// contract, as Python's wsgiref.validate does for WSGI: the environ the app
// is handed, the status and headers it gives start_response, and the way
// it produces its body.
//
// A broken rule panics with an [*Error] that names the rule and the app; a
// server turns that into a 500 and a log line. Doubtful but legal things
// (an unusual method, a missing QUERY_STRING) are written to wsgi.errors.
package validate

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/wsgo/wsgo/wsgi"
)

// Error is a broken rule of the contract.
type Error struct {
	App    string // the app's name
	Rule   string // the rule, as wsgiref.validate words it
	Detail string // what was seen
}

// Error names the app, the rule and what was seen.
func (e *Error) Error() string {
	return fmt.Sprintf("validate: app %q: %s: %s", e.App, e.Rule, e.Detail)
}

// Wrap returns app with every request and response checked. name is the
// app's name in error messages.
func Wrap(name string, app wsgi.App) wsgi.App {
	return wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		c := &check{app: name, env: env}
		c.environ(env)
		body := app.ServeWSGI(env, c.start(start))
		if body == nil {
			c.fail("body is nil", "the app returned a nil body; return an empty one (wsgi.Body())")
		}
		return c.body(body)
	})
}

// check is the state of one request under validation.
type check struct {
	app      string
	env      wsgi.Environ
	started  bool // start_response was called
	yielding bool // the first non-empty chunk was yielded
	stopped  bool // the server stopped reading the body
	status   int
}

func (c *check) fail(rule, format string, args ...any) {
	panic(&Error{App: c.name(), Rule: rule, Detail: fmt.Sprintf(format, args...)})
}

// failWith fails on a rule that package wsgi checks, in its words.
func (c *check) failWith(err error) {
	var re *wsgi.ResponseError
	if !errors.As(err, &re) {
		panic(err)
	}
	c.fail(re.Rule, "%s", re.Detail)
}

func (c *check) warn(env wsgi.Environ, format string, args ...any) {
	fmt.Fprintf(env.Errors(), "validate: app %q: warning: "+format+"\n", append([]any{c.name()}, args...)...)
}

// name is the app to blame: the mounted app a Dispatcher inside the wrapped
// app sent the request to, once it has, or the wrapped app.
func (c *check) name() string {
	if n := c.env.Get(wsgi.AppNameKey); n != "" {
		return n
	}
	return c.app
}

var required = []string{
	"REQUEST_METHOD", "SERVER_NAME", "SERVER_PORT",
	"wsgi.version", "wsgi.input", "wsgi.errors", "wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
}

var usualMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "DELETE": true,
	"OPTIONS": true, "PATCH": true, "TRACE": true, "CONNECT": true,
}

// environ checks what the server handed the app.
func (c *check) environ(env wsgi.Environ) {
	if env == nil {
		c.fail("environ is not a map", "nil environ")
	}
	for _, k := range required {
		if _, ok := env[k]; !ok {
			c.fail("environ lacks a required key", "%s is missing", k)
		}
	}
	for k, v := range env {
		if strings.IndexByte(k, '.') < 0 { // a CGI key: not wsgi.*, wsgo.*, wsgiorg.*
			if _, ok := v.(string); !ok {
				c.fail("CGI values are strings", "%s holds a %T", k, v)
			}
		}
	}
	for _, k := range []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"} {
		if _, ok := env[k]; ok {
			c.fail("no HTTP_CONTENT_* keys", "%s is present; the value belongs in %s", k, strings.TrimPrefix(k, "HTTP_"))
		}
	}
	if v, ok := env["wsgi.version"].(wsgi.Version); !ok || v != (wsgi.Version{Major: 1, Minor: 0}) {
		c.fail("wsgi.version is (1, 0)", "got %v", env["wsgi.version"])
	}
	if s := env.Get("wsgi.url_scheme"); s != "http" && s != "https" {
		c.fail("wsgi.url_scheme is http or https", "got %q", s)
	}
	if _, ok := env["wsgi.input"].(io.Reader); !ok {
		c.fail("wsgi.input is a reader", "got %T", env["wsgi.input"])
	}
	if _, ok := env["wsgi.errors"].(io.Writer); !ok {
		c.fail("wsgi.errors is a writer", "got %T", env["wsgi.errors"])
	}
	for _, k := range []string{"wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once"} {
		if _, ok := env[k].(bool); !ok {
			c.fail("wsgi flags are booleans", "%s holds a %T", k, env[k])
		}
	}
	if m := env.Method(); m == "" {
		c.fail("REQUEST_METHOD is not empty", "it is empty")
	} else if !usualMethods[m] {
		c.warn(env, "unusual REQUEST_METHOD %q", m)
	}
	if _, ok := env["QUERY_STRING"]; !ok {
		c.warn(env, "QUERY_STRING is missing; servers should set it, empty if need be")
	}
	script, hasScript := env["SCRIPT_NAME"].(string)
	path, hasPath := env["PATH_INFO"].(string)
	if hasScript && script != "" && !strings.HasPrefix(script, "/") {
		c.fail("SCRIPT_NAME is empty or starts with /", "got %q", script)
	}
	if script == "/" {
		c.fail("SCRIPT_NAME is never /", "an app at the root has SCRIPT_NAME \"\" and PATH_INFO \"/\"")
	}
	if hasPath && path != "" && !strings.HasPrefix(path, "/") {
		c.fail("PATH_INFO is empty or starts with /", "got %q", path)
	}
	if (!hasScript || script == "") && !hasPath {
		c.fail("PATH_INFO is present when SCRIPT_NAME is empty", "both are missing or empty")
	}
	if cl, ok := env["CONTENT_LENGTH"].(string); ok {
		if n, err := strconv.ParseInt(cl, 10, 64); err != nil || n < 0 {
			c.fail("CONTENT_LENGTH is a whole number", "got %q", cl)
		}
	}
}

// start wraps start_response with its checks.
func (c *check) start(next wsgi.StartResponse) wsgi.StartResponse {
	return func(status string, headers wsgi.Headers, excInfo ...error) func([]byte) error {
		exc := false
		for _, e := range excInfo {
			exc = exc || e != nil
		}
		if c.started && !exc {
			c.fail("start_response once", "a second call without excInfo")
		}
		c.started = true
		c.status = c.checkStatus(status)
		c.checkHeaders(headers)
		write := next(status, headers, excInfo...)
		return func(p []byte) error {
			if c.yielding {
				c.fail("write before the body", "write called after the body began; write's output must come first")
			}
			return write(p)
		}
	}
}

// checkStatus applies the rules the gateway applies, then wsgiref's own: a
// status has a reason phrase.
func (c *check) checkStatus(status string) int {
	code, err := wsgi.CheckStatus(status)
	if err != nil {
		c.failWith(err)
	}
	if strings.TrimSpace(status[4:]) == "" {
		c.fail("status has a reason phrase", "got %q; write it as %q", status, status[:3]+" Reason")
	}
	return code
}

// checkHeaders applies the rules the gateway applies to each header, then
// wsgiref's own: a Content-Type exactly when there is a body to describe.
func (c *check) checkHeaders(headers wsgi.Headers) {
	hasType := false
	for _, h := range headers {
		if err := wsgi.CheckHeader(h); err != nil {
			c.failWith(err)
		}
		hasType = hasType || strings.EqualFold(h.Name, "Content-Type")
	}
	switch noBody := c.status == 204 || c.status == 304; {
	case noBody && hasType:
		c.fail("no Content-Type on 204 or 304", "status %d has no body to describe", c.status)
	case !noBody && !hasType:
		c.fail("Content-Type is required", "status %d needs one, e.g. text/plain; charset=utf-8", c.status)
	}
}

// body wraps the app's body, checking the order of events and that it stops
// when the server stops asking.
func (c *check) body(body iter.Seq[[]byte]) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if body == nil {
			return
		}
		// Called directly, not ranged over: a range loop would turn an
		// iterator that ignores a false from yield into a runtime panic that
		// names neither the rule nor the app.
		c.stopped = false
		body(func(chunk []byte) bool {
			if c.stopped {
				c.fail("the body stops when asked", "it yielded again after the server stopped reading")
			}
			if len(chunk) > 0 && !c.started {
				c.fail("start_response before the body", "a %d-byte chunk came first", len(chunk))
			}
			if len(chunk) > 0 {
				c.yielding = true
			}
			c.stopped = !yield(chunk)
			return !c.stopped
		})
		if !c.started {
			c.fail("start_response before the body", "the body ended without a call")
		}
	}
}
