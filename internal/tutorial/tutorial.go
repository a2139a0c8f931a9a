// Package tutorial is the WSGI tutorial's four-line app, as the benchmarks
// serve it: once written to the contract, once for net/http, so that both
// are measured on the same bytes.
package tutorial

import (
	"context"
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"github.com/wsgo/wsgo/wsgi"
)

// App is the tutorial's app, as docs/writing-apps.md writes it in Go.
var App = wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	body := strings.Join([]string{
		"The request method was " + env.Method(),
		"The request path info was " + env.PathInfo(),
		"The remote host was " + env.RemoteAddr(),
		"The query string was " + env.QueryString(),
	}, "\n")
	start("200 OK", wsgi.Headers{
		{Name: "Content-Type", Value: "text/plain; charset=utf-8"},
		{Name: "Content-Length", Value: strconv.Itoa(len(body))},
	})
	return wsgi.BodyString(body)
})

// Bare is the same app written for net/http alone.
func Bare(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	body := "The request method was " + r.Method +
		"\nThe request path info was " + r.URL.Path +
		"\nThe remote host was " + host +
		"\nThe query string was " + r.URL.RawQuery
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	io.WriteString(w, body)
}

// Request is bench/serve.sh's request, GET /get/prefix?ip=, as net/http
// hands it to a handler: from 127.0.0.1:40000 to 127.0.0.1:8000, the
// address it arrived on in its context.
func Request() *http.Request {
	r := httptest.NewRequest("GET", "/get/prefix?ip=", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Host = "127.0.0.1:8000"
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}
	return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
}

// A Sink is a ResponseWriter that keeps nothing but its header map, for
// measuring a handler without the network.
type Sink struct{ h http.Header }

// NewSink returns a Sink with an empty header.
func NewSink() *Sink { return &Sink{h: http.Header{}} }

func (s *Sink) Header() http.Header         { return s.h }
func (s *Sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *Sink) WriteHeader(int)             {}

// ServeOnce serves r with h as net/http would hand it over again: a fresh
// response header, and the request without the X-Request-Id a production
// handler put on it the last time.
func ServeOnce(h http.Handler, w *Sink, r *http.Request) {
	clear(w.h)
	r.Header.Del("X-Request-Id")
	h.ServeHTTP(w, r)
}
