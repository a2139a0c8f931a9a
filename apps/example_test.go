package apps_test

import (
	"fmt"
	"iter"

	"github.com/wsgo/wsgo/apps"
)

// serveOnce calls app as a server would and prints what it answered.
func serveOnce(app apps.App, env apps.Environ) {
	start := func(status string, headers apps.Headers, _ ...error) func([]byte) error {
		fmt.Println(status)
		for _, h := range headers {
			fmt.Printf("%s: %s\n", h.Name, h.Value)
		}
		fmt.Println()
		return func(p []byte) error { fmt.Print(string(p)); return nil }
	}
	for chunk := range app.ServeWSGI(env, start) {
		fmt.Print(string(chunk))
	}
}

// An app can be a plain function, adapted with AppFunc, as in the WSGI
// tutorial's "callback function".
func ExampleAppFunc() {
	hello := apps.AppFunc(func(env apps.Environ, start apps.StartResponse) iter.Seq[[]byte] {
		start("200 OK", apps.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return apps.BodyString("Hello, ", env.QueryString(), "!\n")
	})

	serveOnce(hello, apps.Environ{"REQUEST_METHOD": "GET", "QUERY_STRING": "world"})
	// Output:
	// 200 OK
	// Content-Type: text/plain
	//
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
func (c Counter) ServeWSGI(env apps.Environ, start apps.StartResponse) iter.Seq[[]byte] {
	start("200 OK", apps.Headers{{Name: "Content-Type", Value: "text/plain"}})
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
	serveOnce(Counter{To: 3}, apps.Environ{"REQUEST_METHOD": "GET"})
	// Output:
	// 200 OK
	// Content-Type: text/plain
	//
	// 1
	// 2
	// 3
	// (cleanup ran)
}

func ExampleRegister() {
	apps.Register("example-hello", apps.AppFunc(func(env apps.Environ, start apps.StartResponse) iter.Seq[[]byte] {
		start("200 OK", apps.Headers{{Name: "Content-Type", Value: "text/plain"}})
		return apps.BodyString("hello\n")
	}), apps.Describe("says hello"))

	e, _ := apps.Lookup("example-hello")
	fmt.Println(e.Name, "-", e.Description)
	// Output: example-hello - says hello
}
