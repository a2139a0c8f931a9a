package wsgi

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Environ holds everything about one request, as PEP 3333 defines it: CGI
// variables (REQUEST_METHOD, PATH_INFO, HTTP_HOST, …) as strings, and the
// wsgi.* and wsgo.* keys with their own types. It is a plain map, so that
// middleware may add keys; the methods read the common ones.
//
// A key with no value is absent, never present and empty, except
// QUERY_STRING and SCRIPT_NAME, which servers always set.
type Environ map[string]any

// Version is the WSGI version an environ follows; wsgi.version is (1, 0).
type Version struct {
	Major, Minor int
}

// String formats v as Python writes the tuple: "(1, 0)".
func (v Version) String() string { return fmt.Sprintf("(%d, %d)", v.Major, v.Minor) }

// Get returns the string value of key, or "" if it is absent or not a string.
func (e Environ) Get(key string) string {
	s, _ := e[key].(string)
	return s
}

// Method returns REQUEST_METHOD, such as "GET".
func (e Environ) Method() string { return e.Get("REQUEST_METHOD") }

// ScriptName returns SCRIPT_NAME: the prefix the app is mounted at, "" at the root.
func (e Environ) ScriptName() string { return e.Get("SCRIPT_NAME") }

// PathInfo returns PATH_INFO: the percent-decoded path below SCRIPT_NAME.
func (e Environ) PathInfo() string { return e.Get("PATH_INFO") }

// QueryString returns QUERY_STRING: the query as the client sent it, undecoded.
func (e Environ) QueryString() string { return e.Get("QUERY_STRING") }

// RemoteAddr returns REMOTE_ADDR: the client's IP address.
func (e Environ) RemoteAddr() string { return e.Get("REMOTE_ADDR") }

// Header returns the request header called name ("User-Agent",
// "content-type"), read from its CGI key (HTTP_USER_AGENT, CONTENT_TYPE).
// Repeated headers come joined with ",".
func (e Environ) Header(name string) string {
	key := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	if key != "CONTENT_TYPE" && key != "CONTENT_LENGTH" {
		key = "HTTP_" + key
	}
	return e.Get(key)
}

// Input returns wsgi.input, the request body. It ends at CONTENT_LENGTH, or
// at the end of a chunked body; apps must not close it. It is never nil.
func (e Environ) Input() io.Reader {
	if r, ok := e["wsgi.input"].(io.Reader); ok {
		return r
	}
	return strings.NewReader("")
}

// Errors returns wsgi.errors, where an app writes messages for the server's
// log. It is never nil.
func (e Environ) Errors() io.Writer {
	if w, ok := e["wsgi.errors"].(io.Writer); ok {
		return w
	}
	return io.Discard
}

// Context returns wsgo.context, which is cancelled when the client goes away
// or the server shuts down. It is never nil.
func (e Environ) Context() context.Context {
	if c, ok := e["wsgo.context"].(context.Context); ok {
		return c
	}
	return context.Background()
}
