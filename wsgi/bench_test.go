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
