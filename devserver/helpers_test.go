package devserver

import (
	"iter"

	"github.com/wsgo/wsgo/wsgi"
)

var textPlain = wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}}

func ok(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return wsgi.BodyString("ok")
}

// route is a tiny dispatcher so one server can hold a misbehaving app and a
// good one, and a test can show the server still serves after a failure.
type route map[string]wsgi.AppFunc

func (m route) ServeWSGI(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	if app, found := m[env.PathInfo()]; found {
		return app(env, start)
	}
	return ok(env, start)
}
