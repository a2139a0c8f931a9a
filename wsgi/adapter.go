package wsgi

import (
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/cgi"
	"strconv"
)

// FromHandler adapts an http.Handler (net/http's ServeMux, chi, …) into an
// [App], so that it can be registered and served by name. The handler
// sees PATH_INFO as its URL path, as http.StripPrefix would give it, so a
// mounted handler routes below its mount point.
func FromHandler(h http.Handler) App {
	return AppFunc(func(env Environ, start StartResponse) iter.Seq[[]byte] {
		return func(yield func([]byte) bool) {
			r, err := requestFrom(env)
			if err != nil {
				start("400 Bad Request", Headers{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}})
				yield([]byte(err.Error() + "\n"))
				return
			}
			w := &bodyWriter{header: http.Header{}, start: start, yield: yield}
			h.ServeHTTP(w, r)
			w.WriteHeader(http.StatusOK)
		}
	})
}

func requestFrom(env Environ) (*http.Request, error) {
	params := make(map[string]string, len(env))
	for k, v := range env {
		if s, ok := v.(string); ok {
			params[k] = s
		}
	}
	delete(params, "REQUEST_URI") // so the URL is built from SCRIPT_NAME and PATH_INFO
	r, err := cgi.RequestFromMap(params)
	if err != nil {
		return nil, fmt.Errorf("wsgi: request from environ: %w", err)
	}
	r.URL.Path, r.URL.RawPath = env.PathInfo(), ""
	r.RequestURI = env.Get("REQUEST_URI")
	r.Body = io.NopCloser(env.Input())
	return r.WithContext(env.Context()), nil
}

// bodyWriter is the http.ResponseWriter a wrapped handler writes to: its
// headers go to start_response, its writes become body chunks.
type bodyWriter struct {
	header http.Header
	start  StartResponse
	yield  func([]byte) bool
	code   int
	gone   bool
}

func (w *bodyWriter) Header() http.Header { return w.header }

func (w *bodyWriter) WriteHeader(code int) {
	if w.code != 0 {
		return
	}
	w.code = code
	if w.header.Get("Content-Type") == "" && bodyAllowed(code) {
		w.header.Set("Content-Type", "text/plain; charset=utf-8") // the contract wants one
	}
	var hs Headers
	for name, values := range w.header {
		for _, v := range values {
			hs = append(hs, Header{Name: name, Value: v})
		}
	}
	w.start(strconv.Itoa(code)+" "+http.StatusText(code), hs)
}

func (w *bodyWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		if w.header.Get("Content-Type") == "" {
			w.header.Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.gone {
		return 0, errClientGone
	}
	if len(p) == 0 {
		return 0, nil
	}
	// io.Writer must not retain p, but a yielded chunk may be held by the
	// server, so the chunk is a copy.
	if !w.yield(append([]byte(nil), p...)) {
		w.gone = true
		return 0, errClientGone
	}
	return len(p), nil
}

// Flush does nothing: the gateway sends output within its flush delay.
func (w *bodyWriter) Flush() {}
