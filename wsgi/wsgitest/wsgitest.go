// Package wsgitest calls wsgo apps the way a server does, for tests: it is to
// a [wsgi.App] what net/http/httptest is to an http.Handler.
//
// [Do] serves one request through the same gateway a server uses, so the
// app meets the environ, the start_response rules and the failure handling
// it will meet in production, and returns what the client would get.
package wsgitest

import (
	"errors"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/wsgi"
)

// A Response is what a client got from an app, and what the server logged.
type Response struct {
	Code   int         // the status code, such as 200
	Status string      // the status line as a client reads it, such as "200 OK"
	Header http.Header // the headers sent
	Body   string      // the body sent, all of it

	// Aborted is true when the gateway cut the connection: the app failed
	// after its headers went out, so Body is only what came before.
	Aborted bool

	// Log is what the gateway logged: a failure with its stack, and what
	// the app wrote to wsgi.errors. Print it when a test fails.
	Log string
}

// Do serves r with app, as the wsgi gateway serves it to a client, and
// returns the response. Build r with httptest.NewRequest.
func Do(app wsgi.App, r *http.Request) *Response {
	var logged syncbuf.Buffer
	rec := httptest.NewRecorder()
	g := &wsgi.Gateway{App: app, Log: wsgi.LogTo(log.New(&logged, "", 0))}
	aborted := serve(g, rec, r)
	res := rec.Result()
	return &Response{
		Code:    res.StatusCode,
		Status:  res.Status,
		Header:  res.Header,
		Body:    rec.Body.String(),
		Aborted: aborted,
		Log:     logged.String(),
	}
}

// Get serves a GET request for target, a path with an optional query such
// as "/items/42?full=1", with app.
func Get(app wsgi.App, target string) *Response {
	return Do(app, httptest.NewRequest(http.MethodGet, target, nil))
}

// serve runs h, reporting whether it aborted the response, as a server
// does with http.ErrAbortHandler. Any other panic is the test's to see.
func serve(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if v := recover(); v != nil {
			if err, ok := v.(error); !ok || !errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			aborted = true
		}
	}()
	h.ServeHTTP(w, r)
	return false
}
