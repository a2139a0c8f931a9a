package serve

import (
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/wsgi"
)

// tutorial is the WSGI tutorial's app, as docs/writing-apps.md writes it
// in Go and bench/serve.sh serves it.
var tutorial = wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
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

// bareTutorial is the same app written for net/http, as bench/bare serves it.
func bareTutorial(w http.ResponseWriter, r *http.Request) {
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

// production is the handler a built program runs for app: the server's
// own handler, the in-flight count, request ids, the access log (text or
// json, batched, to io.Discard) and the gateway.
func production(format string, app wsgi.App) http.Handler {
	l := newLogs(format, io.Discard)
	l.batch(time.Hour)
	o := options{app: "tutorial", logFormat: format}
	return NewServer(TrackInFlight(o.gateway(app, l)), io.Discard).Handler
}

// sink is a ResponseWriter that keeps nothing but its header map, which it
// clears for the next request, as net/http's own writer starts afresh.
type sink struct{ h http.Header }

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(int)             {}

func tutorialRequest() *http.Request {
	r := httptest.NewRequest("GET", "/get/prefix?ip=", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Host = "127.0.0.1:8000"
	return r
}

// serveOnce serves one request the way net/http would hand it over:
// a fresh header for the response.
func serveOnce(h http.Handler, w *sink, r *http.Request) {
	clear(w.h)
	r.Header.Del("X-Request-Id") // set on the request by the last one
	h.ServeHTTP(w, r)
}

// BenchmarkProduction is what a built program does for one request of
// bench/serve.sh's tutorial app, without the network, beside the same
// answer from a bare net/http handler.
func BenchmarkProduction(b *testing.B) {
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", http.HandlerFunc(bareTutorial)},
		{"text", production("text", tutorial)},
		{"json", production("json", tutorial)},
	} {
		b.Run(c.name, func(b *testing.B) {
			w, r := &sink{h: http.Header{}}, tutorialRequest()
			b.ReportAllocs()
			for b.Loop() {
				serveOnce(c.h, w, r)
			}
		})
	}
}

// TestProductionAllocations holds what a built program allocates for one
// request of the tutorial's app, beyond net/http's own, to its count
// (35 before the access log, the request id and the environ's repeated
// values were made cheaper): allocation counts, unlike times, are the
// same from run to run.
func TestProductionAllocations(t *testing.T) {
	const most = 30
	for _, format := range []string{"text", "json"} {
		h, w, r := production(format, tutorial), &sink{h: http.Header{}}, tutorialRequest()
		serveOnce(h, w, r)
		if n := testing.AllocsPerRun(200, func() { serveOnce(h, w, r) }); n > most {
			t.Errorf("%s log: %.1f allocations a request, want at most %d", format, n, most)
		}
	}
}
