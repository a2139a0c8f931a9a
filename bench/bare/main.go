// Command bare is the yardstick for bench/serve.sh: a plain net/http server
// that answers every request with the same bytes, read once from a file.
//
//	go run ./bench/bare -addr 127.0.0.1:8001 -body body.txt -type 'application/json'
//
// With -mode, it measures the floors under wsgo serve instead: "environ"
// builds each request's environ, as the gateway does, and then answers as
// bare does; "gateway" serves the bytes from a wsgo app through
// wsgi.Handler, with no validator, router, request log or in-flight count.
// In those modes the collector runs as wsgo serve sets it (GOGC=400, unless
// GOGC is set), so that the floors differ from wsgo serve only in code.
package main

import (
	"flag"
	"fmt"
	"iter"
	"net/http"
	"os"
	"runtime/debug"

	"github.com/wsgo/wsgo/wsgi"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8001", "address to listen on")
	bodyFile := flag.String("body", "", "file holding the response body")
	ctype := flag.String("type", "text/plain; charset=utf-8", "Content-Type of the response")
	mode := flag.String("mode", "bare", "bare, environ (bare plus the environ of each request) or gateway (a wsgo app under wsgi.Handler)")
	flag.Parse()
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
	srv := &http.Server{Addr: *addr, Handler: h}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}
