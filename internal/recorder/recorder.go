// Package recorder notes what a response was on its way out, for a request
// log: its final status and the size of its body. The dev server's log and
// the production access log use the same notes.
package recorder

import "net/http"

// Response is an http.ResponseWriter that notes its final status and the
// bytes of body written through it.
type Response struct {
	http.ResponseWriter
	status int
	size   int64
}

// New returns a Response writing to w.
func New(w http.ResponseWriter) *Response { return &Response{ResponseWriter: w} }

// WriteHeader notes the final status: an informational one (103 Early
// Hints) comes before the response's own and is not it, 101 Switching
// Protocols is the last the server sends.
func (r *Response) WriteHeader(code int) {
	if r.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *Response) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.size += int64(n)
	return n, err
}

// Answered reports whether a status was set or body bytes were written:
// whether a response began, as far as the handler goes.
func (r *Response) Answered() bool { return r.status != 0 }

// Status is the final status sent, 200 if none was set.
func (r *Response) Status() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Size is the number of body bytes written.
func (r *Response) Size() int64 { return r.size }

// Unwrap lets http.ResponseController reach the connection's own writer,
// to flush.
func (r *Response) Unwrap() http.ResponseWriter { return r.ResponseWriter }
