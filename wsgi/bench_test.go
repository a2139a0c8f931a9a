package wsgi_test

import (
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wsgo/wsgo/apps"
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
