package apps

import (
	"encoding/json"
	"html"
	"iter"

	"github.com/wsgo/wsgo/wsgi"
)

func init() {
	wsgi.Register("hello", Hello(), wsgi.Describe("a small app made with the router: a page, a greeting, a JSON route"))
}

// Hello returns the built-in "hello" app, the example to copy for an app
// with routes.
func Hello() *wsgi.Router {
	r := wsgi.NewRouter()
	r.HandleFunc("GET /{$}", helloIndex)
	r.HandleFunc("GET /hello/{name}", helloName)
	r.HandleFunc("GET /api/hello/{name}", helloJSON)
	return r
}

func helloIndex(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	base := html.EscapeString(env.ScriptName())
	start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/html; charset=utf-8"}})
	return wsgi.BodyString(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hello</title></head>
<body>
<h1>Hello from wsgo</h1>
<p>Try <a href="`, base, `/hello/Ada">`, base, `/hello/Ada</a> or <a href="`, base, `/api/hello/Ada">`, base, `/api/hello/Ada</a>.</p>
</body>
</html>
`)
}

func helloName(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	name := html.EscapeString(env.PathValue("name"))
	start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/html; charset=utf-8"}})
	return wsgi.BodyString(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hello, `, name, `</title></head>
<body><h1>Hello, `, name, `!</h1></body>
</html>
`)
}

// greeting is the JSON route's answer.
type greeting struct {
	Hello string `json:"hello"`
}

func helloJSON(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	body, err := json.Marshal(greeting{Hello: env.PathValue("name")})
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "application/json"}})
	return wsgi.Body(append(body, '\n'))
}
