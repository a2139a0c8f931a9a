// Command bare is the yardstick for bench/serve.sh: a plain net/http server
// that answers every request with the same bytes, read once from a file.
//
//	go run ./bench/bare -addr 127.0.0.1:8001 -body body.txt -type 'application/json'
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8001", "address to listen on")
	bodyFile := flag.String("body", "", "file holding the response body")
	ctype := flag.String("type", "text/plain; charset=utf-8", "Content-Type of the response")
	flag.Parse()
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(2)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", *ctype)
		w.Write(body)
	})
	srv := &http.Server{Addr: *addr}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}
