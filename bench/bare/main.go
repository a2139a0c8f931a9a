// Command bare is the yardstick for bench/serve.sh: a plain net/http server
// that answers every request with the same bytes, read once from a file.
//
//	go run ./bench/bare -addr 127.0.0.1:8001 -body body.txt -type 'application/json'
//
// With -mode, it measures the floors under wsgo serve instead: "environ"
// builds each request's environ, as the gateway does, and then answers as
// bare does; "gateway" serves the bytes from a wsgo app through
// wsgi.Handler, with no validator, router, request log or in-flight count.
// In those two modes the collector runs as wsgo serve sets it (GOGC=400,
// unless GOGC is set), so that the floors differ from wsgo serve only in
// code. "tutorial" is bare for the tutorial's app (docs/writing-apps.md):
// its four lines, made from each request as that app makes them, the same
// bytes a wsgo or Python server of that app sends; -body is not needed.
//
// With WSGO_BENCH_ALLOCS=ADDR it tells its count of heap allocations on
// ADDR (see package allocs).
package main

import (
	"flag"
	"fmt"
	"iter"
	"net/http"
	"os"
	"runtime/debug"

	"github.com/wsgo/wsgo/bench/allocs"
	"github.com/wsgo/wsgo/wsgi"

	"github.com/wsgo/wsgo/internal/tutorial"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8001", "address to listen on")
	bodyFile := flag.String("body", "", "file holding the response body")
	ctype := flag.String("type", "text/plain; charset=utf-8", "Content-Type of the response")
	mode := flag.String("mode", "bare", "bare, environ (bare plus the environ of each request), gateway (a wsgo app under wsgi.Handler) or tutorial (the tutorial's four lines)")
	flag.Parse()
	allocs.ServeFromEnv()
	if *mode == "tutorial" {
		listen(*addr, http.HandlerFunc(tutorial.Bare))
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(2)
	}
	bare := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", *ctype)
		w.Write(body)
	}
	if *mode != "bare" && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	var h http.Handler
	switch *mode {
	case "bare":
		h = http.HandlerFunc(bare)
	case "environ":
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if wsgi.NewEnviron(r).Method() == "" {
				panic("no REQUEST_METHOD") // uses the environ, which the compiler must then build
			}
			bare(w, r)
		})
	case "gateway":
		h = wsgi.Handler(wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
			start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: *ctype}})
			return wsgi.Body(body)
		}))
	default:
		fmt.Fprintf(os.Stderr, "bare: unknown -mode %q: want bare, environ or gateway\n", *mode)
		os.Exit(2)
	}
	listen(*addr, h)
}

func listen(addr string, h http.Handler) {
	srv := &http.Server{Addr: addr, Handler: h}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}
