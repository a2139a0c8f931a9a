package wsgi_test

import (
	"fmt"
	"iter"
	"log"
	"net/http"

	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

// An app can be a plain function, adapted with AppFunc, as in the WSGI
// tutorial's "callback function".
func ExampleAppFunc() {
	hello := wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return wsgi.BodyString("Hello, ", env.QueryString(), "!\n")
	})

	resp := wsgitest.Get(hello, "/?world")
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	fmt.Print(resp.Body)
	// Output:
	// 200 OK text/plain
	// Hello, world!
}

// Counter is an app written as a type with a method, as in the WSGI
// tutorial's "class": its fields are its configuration.
type Counter struct {
	To int
}

// ServeWSGI yields one line a number. The body is a generator: each line is
// produced when the server asks for it, and the deferred cleanup runs when
// the body ends, fails, or the client goes away (WSGI's close()).
func (c Counter) ServeWSGI(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return func(yield func([]byte) bool) {
		defer fmt.Println("(cleanup ran)")
		for i := 1; i <= c.To; i++ {
			if !yield(fmt.Appendf(nil, "%d\n", i)) {
				return
			}
		}
	}
}

func ExampleApp() {
	resp := wsgitest.Get(Counter{To: 3}, "/")
	fmt.Print(resp.Body)
	// Output:
	// (cleanup ran)
	// 1
	// 2
	// 3
}

func ExampleRegister() {
	wsgi.Register("example-hello", wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return wsgi.BodyString("hello\n")
	}), wsgi.Describe("says hello"))

	e, _ := wsgi.Lookup("example-hello")
	fmt.Println(e.Name, "-", e.Description)
	// Output: example-hello - says hello
}

// Inside a production server, Handler serves an app like any http.Handler.
// A failing app costs its client a plain 500; the stack goes to the log.
func ExampleHandler() {
	app := wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return wsgi.BodyString("Hello from ", env.PathInfo(), "\n")
	})
	mux := http.NewServeMux()
	mux.Handle("/app/", http.StripPrefix("/app", wsgi.Handler(app)))
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}

// FromHandler goes the other way: any http.Handler becomes an app, to be
// registered, mounted or tested as one.
func ExampleFromHandler() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "pong")
	})
	resp := wsgitest.Get(wsgi.FromHandler(mux), "/ping")
	fmt.Print(resp.Status, " ", resp.Body)
	// Output: 200 OK pong
}
