package apps

import (
	"encoding/json"
	"html"
	"iter"
)

func init() {
	Register("hello", Hello(), Describe("a small app made with the router: a page, a greeting, a JSON route"))
}

// Hello returns the built-in "hello" app, the example to copy for an app
// with routes.
func Hello() *Router {
	r := NewRouter()
	r.HandleFunc("GET /{$}", helloIndex)
	r.HandleFunc("GET /hello/{name}", helloName)
	r.HandleFunc("GET /api/hello/{name}", helloJSON)
	return r
}

func helloIndex(env Environ, start StartResponse) iter.Seq[[]byte] {
	base := html.EscapeString(env.ScriptName())
	start("200 OK", Headers{{"Content-Type", "text/html; charset=utf-8"}})
	return BodyString(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hello</title></head>
<body>
<h1>Hello from wsgo</h1>
<p>Try <a href="`, base, `/hello/Ada">`, base, `/hello/Ada</a> or <a href="`, base, `/api/hello/Ada">`, base, `/api/hello/Ada</a>.</p>
</body>
</html>
`)
}

func helloName(env Environ, start StartResponse) iter.Seq[[]byte] {
	name := html.EscapeString(env.PathValue("name"))
	start("200 OK", Headers{{"Content-Type", "text/html; charset=utf-8"}})
	return BodyString(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Hello, `, name, `</title></head>
<body><h1>Hello, `, name, `!</h1></body>
</html>
`)
}

func helloJSON(env Environ, start StartResponse) iter.Seq[[]byte] {
	body, err := json.Marshal(map[string]string{"hello": env.PathValue("name")})
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	start("200 OK", Headers{{"Content-Type", "application/json"}})
	return Body(append(body, '\n'))
}
