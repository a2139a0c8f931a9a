package serve

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wsgo/wsgo/wsgi"

	"github.com/wsgo/wsgo/internal/tutorial"
)

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

// tutorialRequest is bench/serve.sh's request as net/http hands it over,
// with the address it arrived on in its context.
func tutorialRequest() *http.Request {
	r := httptest.NewRequest("GET", "/get/prefix?ip=", nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Host = "127.0.0.1:8000"
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}
	return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, local))
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
		{"bare", http.HandlerFunc(tutorial.Bare)},
		{"text", production("text", tutorial.App)},
		{"json", production("json", tutorial.App)},
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
// request of the tutorial.App's app, beyond net/http's own, to its count
// (35 before the access log, the request id and the environ's repeated
// values were made cheaper; 28 once the request carried its local address,
// as net/http's do, whose SERVER_NAME and SERVER_PORT are then shared; 21
// since wsgi.input, X-Request-Id's key, BodyString, the header values and
// the log entry took fewer): allocation counts, unlike times, are the same
// from run to run.
func TestProductionAllocations(t *testing.T) {
	const most = 21
	for _, format := range []string{"text", "json"} {
		h, w, r := production(format, tutorial.App), &sink{h: http.Header{}}, tutorialRequest()
		serveOnce(h, w, r)
		if n := testing.AllocsPerRun(200, func() { serveOnce(h, w, r) }); n > most {
			t.Errorf("%s log: %.1f allocations a request, want at most %d", format, n, most)
		}
	}
}
