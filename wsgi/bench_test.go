package wsgi_test

import (
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wsgo/wsgo/apps"
	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/internal/tutorial"
	"github.com/wsgo/wsgo/serve"
	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/validate"
)

var fixedBody = []byte("Hello, world! This is a small fixed body.\n")

func plainHandler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write(fixedBody)
}

func fixedApp(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return wsgi.Body(fixedBody)
}

type benchCase struct {
	name string
	h    http.Handler
}

// benchCases are the handlers compared: plain net/http, the same bytes from
// a wsgo app, that app under the validator, and (over the network) the demo.
func benchCases(withDemo bool) []benchCase {
	cases := []benchCase{
		{"plain", http.HandlerFunc(plainHandler)},
		{"gateway", wsgi.Handler(wsgi.AppFunc(fixedApp))},
		{"validated", wsgi.Handler(validate.Wrap("fixed", wsgi.AppFunc(fixedApp)))},
	}
	if withDemo {
		cases = append(cases, benchCase{"demo", wsgi.Handler(wsgi.AppFunc(apps.Demo))})
	}
	return cases
}

// BenchmarkServe compares the handlers over real loopback connections with
// keep-alive.
func BenchmarkServe(b *testing.B) {
	for _, bc := range benchCases(true) {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(bc.h)
			defer srv.Close()
			client := srv.Client()
			url := srv.URL + "/get/prefix?ip="
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				resp, err := client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// serveStack is the handler `wsgo serve hello` runs: the hello app under the
// validator, the development gateway, and the request log (batched, as serve
// sets it), here written to io.Discard.
func serveStack(validated bool) http.Handler {
	log := devserver.NewLogger(io.Discard, false)
	log.Batch(20 * time.Millisecond)
	var app wsgi.App = apps.Hello()
	if validated {
		app = validate.Wrap("hello", app)
	}
	return serve.TrackInFlight(devserver.LogRequests(devserver.NewGateway(app, "hello", log), log))
}

// BenchmarkServeStack is what `wsgo serve hello` does for one request of
// bench/serve.sh, without the network.
func BenchmarkServeStack(b *testing.B) {
	for _, validated := range []bool{true, false} {
		name := "validated"
		if !validated {
			name = "no-validate"
		}
		b.Run(name, func(b *testing.B) {
			h := serveStack(validated)
			r := httptest.NewRequest("GET", "/api/hello/bench", nil)
			r.RemoteAddr = "127.0.0.1:40000"
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
}

// devTutorial is the handler `wsgo serve tutorial --no-reload` runs, as
// bench/serve.sh loads it: the server's own handler, the in-flight count,
// the request log (batched, to io.Discard), the development gateway and the
// validator, around the tutorial's app.
func devTutorial() http.Handler {
	log := devserver.NewLogger(io.Discard, false)
	log.Batch(20 * time.Millisecond)
	gw := devserver.NewGateway(validate.Wrap("tutorial", tutorial.App), "tutorial", log)
	return serve.NewServer(serve.TrackInFlight(devserver.LogRequests(gw, log)), io.Discard).Handler
}

// BenchmarkDevTutorial is what the dev server does for one request of
// bench/serve.sh's tutorial app, without the network, beside the same
// answer from a bare net/http handler.
func BenchmarkDevTutorial(b *testing.B) {
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", http.HandlerFunc(tutorial.Bare)},
		{"serve", devTutorial()},
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

// TestDevTutorialAllocations holds what the dev server allocates for one
// request of the tutorial's app, beyond net/http's own, to its count (28
// before wsgi.input, the header values, the validator and BodyString took
// fewer allocations); counts, unlike times, are the same from run to run.
func TestDevTutorialAllocations(t *testing.T) {
	const most = 24
	h, w, r := devTutorial(), tutorial.NewSink(), tutorial.Request()
	tutorial.ServeOnce(h, w, r)
	if n := testing.AllocsPerRun(200, func() { tutorial.ServeOnce(h, w, r) }); n > most {
		t.Errorf("%.1f allocations a request, want at most %d", n, most)
	}
}

// BenchmarkHandler isolates the gateway's own cost: no network, one request
// served into a recorder.
func BenchmarkHandler(b *testing.B) {
	for _, bc := range benchCases(false) {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", "/get/prefix?ip=", nil)
			r.Header.Set("User-Agent", "bench")
			r.Header.Set("Accept", "*/*")
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(httptest.NewRecorder(), r)
			}
		})
	}
}
