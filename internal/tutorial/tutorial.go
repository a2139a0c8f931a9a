// Package tutorial is the WSGI tutorial's four-line app, as the benchmarks
// serve it: once written to the contract, once for net/http, so that both
// are measured on the same bytes.
package tutorial

import (
	"io"
	"iter"
	"net"
	"net/http"
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
