package wsgi

import (
	"cmp"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// flushDelay is the longest the gateway lets output sit in its buffer while
// the app works on the next chunk. PEP 3333 forbids holding a chunk back until
// the next one exists; flushing what has waited this long keeps that promise
// without a system call per chunk, and lets a body of one chunk go out with a
// Content-Length, in one write with the headers.
const flushDelay = 10 * time.Millisecond

// Gateway serves an [App] over HTTP: it builds the environ, enforces the
// start_response and body rules of PEP 3333, and turns an app's failure into
// a 500 (while the headers are unsent) or an aborted connection, with a
// report to Log either way, a panic's stack included. A path with a control
// character gets 400 and never reaches the app.
//
// What a client learns of a failure is up to ErrorPage, and by default it is
// only "500 Internal Server Error": a stack, a panic's message or a file path
// never reaches a client, wherever it connects from.
type Gateway struct {
	App  App
	Name string // the app's name in messages, "app" if empty; see AppNameKey
	Log  Logger // failures and wsgi.errors; nil logs to the log package's standard logger

	// ErrorPage answers a request whose app failed before its headers went
	// out. If nil, it is PlainErrorPage. A development server may show the
	// failure in detail to clients on its own machine; a production server
	// must not, since behind a reverse proxy every client is local.
	ErrorPage func(w http.ResponseWriter, r *http.Request, f *Failure)

	cache envCache
}

// Handler returns an http.Handler that serves app, so that any Go server can
// run a wsgo app. It is safe in production: a failing app costs its client a
// plain 500, and the details go to the standard logger.
func Handler(app App) http.Handler {
	return &Gateway{App: app}
}

// name is the name of the app that served env: the mounted app a
// [Dispatcher] sent it to, or g's own.
func (g *Gateway) name(env Environ) string {
	return cmp.Or(env.Get(AppNameKey), g.Name, "app")
}

func (g *Gateway) logger() Logger {
	if g.Log == nil {
		return LogTo(log.Default())
	}
	return g.Log
}

// ServeHTTP runs the app for one request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if hasControl(r.URL.Path) {
		// net/http refuses raw control bytes but decodes %00 or %1b into
		// PATH_INFO, where no app expects them and a log would print them.
		w.Header().Set("Server", Software)
		http.Error(w, "400 Bad Request: control character in the path", http.StatusBadRequest)
		return
	}
	log := g.logger()
	rs := &response{w: w, req: r, declared: -1}
	rs.in.r = r.Body
	env := newEnviron(r, log, &g.cache, &rs.in)
	in := &rs.in // the gateway's own: middleware may replace wsgi.input
	err := rs.run(g.App, env)
	rs.close()
	if in.fail == nil && err == nil {
		return
	}
	name := g.name(env)
	if in.fail != nil {
		// The body broke off: whatever the app made of it, the client is
		// gone, or sent nothing for as long as the server waits.
		what := "client went away while sending the request body"
		if errors.Is(in.fail, os.ErrDeadlineExceeded) {
			what = "the server cut off a request body the client stopped sending, or sent too slowly"
		}
		log.Notef("app %q: %s: %s (%d bytes of %s read: %v); the body was closed",
			name, which(r), what, in.n, cmp.Or(env.Get("CONTENT_LENGTH"), "a chunked body"), in.fail)
		panic(http.ErrAbortHandler)
	}
	if errors.Is(err, http.ErrAbortHandler) {
		panic(http.ErrAbortHandler)
	}
	if errors.Is(err, errClientGone) {
		log.Notef("app %q: %s: %v after %d bytes; the body was closed", name, which(r), err, rs.written)
		panic(http.ErrAbortHandler) // for the server's log: no whole response went out
	}
	f := &Failure{App: name, Err: err, Environ: env}
	var ae *appError
	if errors.As(err, &ae) {
		f.Stack, f.Frames = ae.stack, ae.frames
	}
	var tb Traceback
	if errors.As(err, &tb) {
		// The Go stack it surfaced on is the gateway's and the adapter's.
		f.Stack, f.Frames = []byte(tb.TracebackText()), nil
	}
	log.Failed(r, f)
	if rs.sent && rs.declared >= 0 && rs.written == rs.declared {
		return // the client has the whole response the app declared: let it be
	}
	if rs.sent {
		// Too late for a status: cut the connection so the client cannot
		// take a partial body for a whole one.
		panic(http.ErrAbortHandler)
	}
	page := g.ErrorPage
	if page == nil {
		page = PlainErrorPage
	}
	page(w, r, f)
}

// hasControl reports whether s holds a control character, as
// unicode.IsControl has them: C0, DEL and C1. A path is mostly ASCII, which
// is looked at byte by byte, without decoding runes.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			return strings.IndexFunc(s[i:], unicode.IsControl) >= 0
		case c < 0x20 || c == 0x7f:
			return true
		}
	}
	return false
}

var errClientGone = errors.New("the connection closed before the response was done (the client left, or the server was stopping)")

// which names r in a note, as the access log's line for it does: its
// method, its target, and its X-Request-Id if it has one.
func which(r *http.Request) string {
	s := r.Method + " " + strconv.Quote(r.RequestURI)
	if id := r.Header.Get("X-Request-Id"); id != "" {
		s += " (request id " + escape(id) + ")"
	}
	return s
}

// errClientStalled is errClientGone when a write to the client timed out:
// the client stopped reading (see serve.DefaultWriteTimeout).
var errClientStalled = fmt.Errorf("the client stopped reading the response, and a write to it waited for the server's write timeout: %w", errClientGone)

// goneFor is the error for a response whose write to the client failed
// with err.
func goneFor(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errClientStalled
	}
	return errClientGone
}

// appError is an app's failure, with the stack where it happened when known.
type appError struct {
	err    error
	stack  []byte          // the app's frames, as text
	frames []runtime.Frame // the whole goroutine's
}

func (e *appError) Error() string { return e.err.Error() }
func (e *appError) Unwrap() error { return e.err }

// A panicError is an app's panic, told as Go tells one ("panic: " and the
// value), runtime errors included; an error the app (or a validator) panics
// with is told as itself. Its message is taken
// once, through fmt, which survives an Error method that panics (a nil
// pointer's, say): the failure is reported by pages and logs that call
// Error again.
type panicError struct {
	msg string
	err error // the value, if it was an error
}

func (e *panicError) Error() string { return e.msg }
func (e *panicError) Unwrap() error { return e.err }

// response is the state of one request's start_response and body.
type response struct {
	w   http.ResponseWriter
	req *http.Request
	in  input // wsgi.input: in the same allocation, which one request needs

	mu        sync.Mutex
	started   bool // start_response has been called
	committed bool // headers are final: a chunk was yielded or write called
	sent      bool // headers are on the wire (or in net/http's buffer)
	done      bool // the handler has returned; the flusher must not write
	code      int  // status code from start_response
	headers   Headers
	declared  int64     // the app's Content-Length, or -1
	held      []byte    // first chunk, held until the body's length is known
	vals      [5]string // the values of the headers sent, if they are few
	written   int64     // body bytes handed to w
	err       error     // first failure, which ends the response
	waiting   bool      // output waits for a flush: rs is in flushes' list

	// Under flushes.mu: rs's place in the list, and the tick it joined at.
	since      uint64
	prev, next *response
}

// run calls the app and drains its body, turning a panic into an error.
func (rs *response) run(app App, env Environ) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = recovered(v)
		}
	}()
	body := app.ServeWSGI(env, rs.start)
	if body != nil {
		body(rs.yield)
	}
	return rs.end()
}

func recovered(v any) error {
	if v == http.ErrAbortHandler {
		return http.ErrAbortHandler
	}
	err, isErr := v.(error)
	var rt runtime.Error
	if !isErr || errors.As(err, &rt) {
		err = &panicError{msg: "panic: " + fmt.Sprint(v), err: err}
	} else if msg := fmt.Sprint(v); msg == "<nil>" || strings.HasPrefix(msg, "%!v(PANIC=") {
		// fmt's words for an Error method that panicked: name the type.
		err = &panicError{msg: fmt.Sprintf("panic: %T: %s", v, msg), err: err}
	} else {
		err = &panicError{msg: msg, err: err}
	}
	frames := panicFrames()
	return &appError{err: err, stack: appStack(frames), frames: frames}
}

// start is the app's start_response.
func (rs *response) start(status string, headers Headers, excInfo ...error) func([]byte) error {
	var exc error
	for _, e := range excInfo {
		if e != nil {
			exc = e
		}
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	switch {
	case exc != nil && rs.committed:
		panic(exc) // PEP 3333: re-raise; the response can only be aborted now
	case exc == nil && rs.started:
		panic(ruleError("called twice", "a second call needs excInfo, the error that made the app change its response"))
	}
	code, err := CheckStatus(status)
	if err != nil {
		panic(err)
	}
	declared := int64(-1)
	for _, h := range headers {
		if err := CheckHeader(h); err != nil {
			panic(err)
		}
		if len(h.Name) == len("Content-Length") && strings.EqualFold(h.Name, "Content-Length") {
			if declared >= 0 {
				panic(ruleError("bad Content-Length", "given twice"))
			}
			declared, _ = strconv.ParseInt(h.Value, 10, 64)
		}
	}
	rs.started, rs.code, rs.headers, rs.declared = true, code, headers, declared
	return rs.write
}

// yield receives one body chunk from the app.
func (rs *response) yield(chunk []byte) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.err != nil {
		return false
	}
	if err := rs.req.Context().Err(); err != nil {
		rs.err = errClientGone
		return false
	}
	if len(chunk) == 0 {
		return true
	}
	if !rs.started {
		rs.err = ruleError("body before start_response", "the app yielded %d bytes before calling start_response", len(chunk))
		return false
	}
	if !rs.committed {
		rs.committed = true
		rs.held = chunk
		flushes.add(rs)
		return true
	}
	if rs.err = rs.output(chunk); rs.err != nil {
		return false
	}
	flushes.add(rs)
	return true
}

// write is the write function start_response returns.
func (rs *response) write(p []byte) error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.done {
		return ruleError("write after the end", "write called after the body ended")
	}
	if rs.err != nil {
		return rs.err
	}
	rs.committed = true
	if rs.err = rs.output(p); rs.err != nil {
		return rs.err
	}
	flushes.add(rs)
	return nil
}

// output sends the headers if they are not out yet, then p.
func (rs *response) output(p []byte) error {
	if !rs.sent {
		if len(p)+len(rs.held) > 0 && !bodyAllowed(rs.code) {
			return errNoBody(rs.code)
		}
		rs.sendHeaders(-1)
	}
	if rs.held != nil {
		held := rs.held
		rs.held = nil
		if err := rs.send(held); err != nil {
			return err
		}
	}
	return rs.send(p)
}

// send writes body bytes, holding the app to its Content-Length.
func (rs *response) send(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	over := rs.declared >= 0 && rs.written+int64(len(p)) > rs.declared
	if over {
		p = p[:rs.declared-rs.written]
	}
	n, err := rs.w.Write(p)
	rs.written += int64(n)
	switch {
	case errors.Is(err, http.ErrBodyNotAllowed):
		return errNoBody(rs.code)
	case err != nil:
		return goneFor(err)
	case over:
		return ruleError("Content-Length exceeded", "the app declared %d bytes and produced more", rs.declared)
	}
	return nil
}

// sendHeaders puts the status and headers on the wire. length, when not -1,
// is the whole body's length, known because the body has ended.
func (rs *response) sendHeaders(length int64) {
	h := rs.w.Header()
	// A header's values are a slice: one array holds them all, where
	// h.Add would allocate one for each header, and for a few headers it
	// is the response's own.
	vals := rs.vals[:0]
	if n := len(rs.headers) + 3; n > len(rs.vals) {
		vals = make([]string, 0, n)
	}
	set := func(name, value string) {
		vals = append(vals, value)
		h[name] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	for _, kv := range rs.headers {
		name := http.CanonicalHeaderKey(kv.Name)
		if old := h[name]; len(old) > 0 {
			h[name] = append(old, kv.Value)
			continue
		}
		set(name, kv.Value)
	}
	if s := h["Server"]; len(s) == 0 || s[0] == "" { // the key is canonical
		set("Server", Software)
	}
	if _, ok := h["Date"]; !ok { // the app's own, if it sent one, stays
		set("Date", dates.header(time.Now()))
	}
	// A HEAD body left empty says nothing of GET's length: none is sent.
	empty := length == 0 && rs.req.Method == http.MethodHead
	if rs.declared < 0 && length >= 0 && bodyAllowed(rs.code) && !empty {
		set("Content-Length", strconv.FormatInt(length, 10))
	}
	rs.w.WriteHeader(rs.code)
	rs.sent = true
}

// end finishes the response once the body is exhausted.
func (rs *response) end() error {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.err != nil {
		return rs.err
	}
	if !rs.started {
		if rs.req.Context().Err() != nil {
			return errClientGone // the app gave up on a request whose client left first
		}
		return ruleError("no start_response", "the app returned without calling start_response")
	}
	// A HEAD response may declare GET's length and send no body, as
	// http.FileServer and every careful app does (RFC 9110 §9.3.2).
	head := rs.req.Method == http.MethodHead
	if !rs.sent {
		n := int64(len(rs.held))
		if rs.declared >= 0 && n != rs.declared && !(head && n == 0) {
			return ruleError("Content-Length mismatch", "the app declared %d bytes and produced %d", rs.declared, n)
		}
		if n > 0 && !bodyAllowed(rs.code) {
			return errNoBody(rs.code)
		}
		rs.sendHeaders(n)
	}
	if err := rs.send(rs.held); err != nil {
		return err
	}
	rs.held = nil
	if rs.declared >= 0 && rs.written < rs.declared && !head {
		return ruleError("Content-Length mismatch", "the app declared %d bytes and produced %d", rs.declared, rs.written)
	}
	return nil
}

// flushNow runs on the flusher's goroutine: output has waited long enough,
// and goes to the client now.
func (rs *response) flushNow() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.waiting = false
	if rs.done || rs.err != nil {
		return
	}
	if rs.held != nil {
		if rs.err = rs.output(nil); rs.err != nil {
			return
		}
	}
	if err := http.NewResponseController(rs.w).Flush(); err != nil {
		rs.err = goneFor(err)
	}
}

// close ends the response; after it, nothing touches w but the handler.
func (rs *response) close() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.done = true
	flushes.remove(rs)
}

// bodyAllowed reports whether a response with this status may have a body.
func bodyAllowed(code int) bool {
	return code != http.StatusNoContent && code != http.StatusNotModified
}

func errNoBody(code int) error {
	return ruleError("body not allowed", "status %d has no body, but the app produced one", code)
}
