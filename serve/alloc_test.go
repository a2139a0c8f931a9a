package serve

import (
	"io"
	"net/http"
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
			w, r := tutorial.NewSink(), tutorial.Request()
			b.ReportAllocs()
			for b.Loop() {
				tutorial.ServeOnce(c.h, w, r)
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
		h, w, r := production(format, tutorial.App), tutorial.NewSink(), tutorial.Request()
		tutorial.ServeOnce(h, w, r)
		if n := testing.AllocsPerRun(200, func() { tutorial.ServeOnce(h, w, r) }); n > most {
			t.Errorf("%s log: %.1f allocations a request, want at most %d", format, n, most)
		}
	}
}
