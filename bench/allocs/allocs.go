// Package allocs lets a benchmark script read how many heap objects a
// server has allocated, from outside it: bench/serve.sh reads the count
// before and after a load and divides by the requests served. It is for
// benchmark programs only; a server that imports it answers on a second,
// loopback-only listener, not on the port it serves.
package allocs

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/metrics"
	"time"
)

// EnvVar names the variable that, when set to a loopback address, makes
// [ServeFromEnv] answer there.
const EnvVar = "WSGO_BENCH_ALLOCS"

// ServeFromEnv starts answering on the address in $WSGO_BENCH_ALLOCS, if
// it is set, in a goroutine of its own. Every GET gets the count of heap
// objects allocated since the process began, as a decimal number; and
// /debug/pprof/ has the process's profiles. While
// another process holds the address (wsgo serve runs a program once to
// list its apps, then again to serve), it keeps trying.
func ServeFromEnv() {
	addr := os.Getenv(EnvVar)
	if addr == "" {
		return
	}
	go func() {
		for {
			ln, err := net.Listen("tcp", addr)
			if err == nil {
				http.Serve(ln, mux())
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
}

// mux answers the count at /, and Go's profiles at /debug/pprof/, to look
// into a benchmark's server under load.
func mux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, Objects()) })
	m.HandleFunc("/debug/pprof/", pprof.Index)
	m.HandleFunc("/debug/pprof/profile", pprof.Profile)
	return m
}

// Objects is the number of heap objects the process has allocated.
func Objects() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
