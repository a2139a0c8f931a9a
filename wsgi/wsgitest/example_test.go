package wsgitest_test

import (
	"fmt"
	"iter"
	"strings"

	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

func greet(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return wsgi.BodyString("Hello, ", env.PathValue("name"), "!\n")
}

func broken(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	panic("out of greetings")
}

// A test calls an app with Get (or Do, for any request) and checks what a
// client would get. A failing app gets the 500 a client would see; what went
// wrong is in the log.
func Example() {
	r := wsgi.NewRouter()
	r.HandleFunc("GET /hello/{name}", greet)
	r.HandleFunc("GET /broken", broken)

	resp := wsgitest.Get(r, "/hello/Ada")
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	fmt.Print(resp.Body)

	resp = wsgitest.Get(r, "/broken")
	fmt.Println(resp.Status)
	fmt.Print(resp.Body)
	first, _, _ := strings.Cut(resp.Log, "\n")
	fmt.Println(first)
	// Output:
	// 200 OK text/plain
	// Hello, Ada!
	// 500 Internal Server Error
	// 500 Internal Server Error
	// app "app" failed on GET "/broken": panic: out of greetings
}
