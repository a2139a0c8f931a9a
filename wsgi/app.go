// Package wsgi is the wsgo contract, in the shape of Python's WSGI (PEP 3333),
// and what goes with it: the registry of apps by name, a Router, a
// Dispatcher for mounting apps below prefixes, and the gateway that serves
// an app over HTTP.
//
// An app receives an [Environ], everything about one request under CGI names,
// and a [StartResponse] callback that sets the status and headers. It returns
// the body as an iterator of byte chunks:
//
//	func hello(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
//		start("200 OK", wsgi.Headers{{"Content-Type", "text/plain"}})
//		return wsgi.BodyString("Hello, ", env.Method(), "\n")
//	}
//
// A body written as a generator gets its cleanup (WSGI's close()) from its own
// defer, which runs whether the body ends normally, the app fails or the client
// goes away.
//
// [Handler] serves an app inside any Go server, and is safe in production:
// a failing app costs its client a plain 500, never a stack. [FromHandler]
// goes the other way, from an http.Handler to an app. [Register] makes an
// app available by name, to wsgo serve; like database/sql, this package
// holds the registry and registers nothing itself.
package wsgi

import (
	"iter"
	"strings"
)

// An App answers one request: it calls start exactly once (or again with an
// error while the headers are still unsent) and returns the body.
//
// The server reads the body until it ends or the client goes away. Chunks are
// the server's once yielded: an app must not modify a slice after yielding it,
// as a Python app cannot modify bytes. A nil body is an empty body.
type App interface {
	ServeWSGI(env Environ, start StartResponse) iter.Seq[[]byte]
}

// AppFunc adapts an ordinary function to the [App] interface, as
// http.HandlerFunc does for http.Handler.
type AppFunc func(env Environ, start StartResponse) iter.Seq[[]byte]

// ServeWSGI calls f(env, start).
func (f AppFunc) ServeWSGI(env Environ, start StartResponse) iter.Seq[[]byte] {
	return f(env, start)
}

// StartResponse sets the status ("200 OK": three digits, a space, a reason)
// and the response headers, and returns a write function for apps that push
// output rather than return it (WSGI's legacy write callable).
//
// A second call is allowed only with a non-nil excInfo: before the headers
// are sent it replaces them; after, it panics with excInfo, which aborts the
// response. A status or header the server cannot send makes StartResponse
// panic with a [*ResponseError], as a Python server raises; the server turns
// that into a 500 and a log line naming the app.
type StartResponse func(status string, headers Headers, excInfo ...error) (write func([]byte) error)

// Header is one response header line.
type Header struct {
	Name, Value string
}

// Headers is an ordered list of response headers. Order and repeats are
// kept as given, which matters for headers such as Set-Cookie.
type Headers []Header

// Get returns the value of the first header named name, compared without
// regard to case, or "" if there is none.
func (h Headers) Get(name string) string {
	for _, kv := range h {
		if strings.EqualFold(kv.Name, name) {
			return kv.Value
		}
	}
	return ""
}

// ResponseError is an app's misuse of [StartResponse] or of the body: a
// malformed status, a header the server may not send, a second call without
// excInfo, output before start_response. Servers panic with it from
// StartResponse and report it as an error.
type ResponseError struct {
	Rule   string // which rule was broken, e.g. "hop-by-hop header"
	Detail string // what the app did, e.g. `header "Connection"`
}

// Error returns the rule and what broke it, for the log and the 500 page.
func (e *ResponseError) Error() string {
	return "start_response: " + e.Rule + ": " + e.Detail
}

// Body returns a body that yields each chunk in turn, skipping none.
func Body(chunks ...[]byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		for _, c := range chunks {
			if !yield(c) {
				return
			}
		}
	}
}

// BodyString returns a body made of the strings joined together, as one chunk,
// so that the server can send it with a Content-Length.
func BodyString(parts ...string) iter.Seq[[]byte] {
	// Joined straight into the chunk, which the body holds by itself: two
	// allocations, where Body of a joined string takes three or four.
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	chunk := make([]byte, 0, n)
	for _, p := range parts {
		chunk = append(chunk, p...)
	}
	return func(yield func([]byte) bool) {
		yield(chunk)
	}
}
