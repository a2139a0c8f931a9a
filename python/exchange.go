package python

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"strconv"

	"github.com/wsgo/wsgo/wsgi"
)

// A channel is Go's end of one worker thread's socket pair. One request at a
// time uses it, from its request frame to its done or exception frame.
type channel struct {
	w    *worker
	conn net.Conn
	r    *bufio.Reader
	out  []byte // the request frame being encoded, reused
}

// maxKeptBuffer is the largest encoding buffer a channel keeps between
// requests.
const maxKeptBuffer = 64 << 10

// send writes one frame, in one write.
func (c *channel) send(kind byte, payload []byte) error {
	if len(payload) > 4<<10 {
		head := appendHeader(nil, kind, len(payload))
		bufs := net.Buffers{head, payload}
		_, err := bufs.WriteTo(c.conn)
		return err
	}
	c.out = append(appendHeader(c.out[:0], kind, len(payload)), payload...)
	_, err := c.conn.Write(c.out)
	return err
}

// sendRequest writes the request frame of env.
func (c *channel) sendRequest(env wsgi.Environ) error {
	b := appendEnviron(appendHeader(c.out[:0], frameRequest, 0), env)
	n := len(b) - headerSize
	if n > maxFrame {
		return fmt.Errorf("the request's environ is %d bytes, more than the %d a frame holds", n, maxFrame)
	}
	appendHeader(b[:0], frameRequest, n)
	_, err := c.conn.Write(b)
	if cap(b) <= maxKeptBuffer {
		c.out = b[:0]
	} else {
		c.out = nil
	}
	return err
}

// ServeWSGI serves one request: it sends the environ's strings to a free
// worker thread, reads the request body for it as the app asks
// (wsgi.input), and yields the body as the app produces it. An exception
// in the app makes it panic with an [*Exception], as a failing Go app
// panics. A worker that dies meanwhile (or breaks the protocol) costs the
// request a 502 Bad Gateway, as a proxy answers for an upstream that
// failed, and a line to Options.Logf that says why; in development
// (Options.Dev) it panics instead, with an error that says so, for the
// development server's page. Either way the response is aborted if its
// headers went out already. When the gateway stops the body early (the
// client went away), the worker is told to stop iterating and to call the
// body's close().
func (a *App) ServeWSGI(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if !awaitBody(env) {
			return // the gateway knows why, and reports it
		}
		c, err := a.acquire(env.Context())
		switch {
		case err == nil:
		case env.Context().Err() != nil:
			return // the client went away while it waited: the gateway says so
		case a.opts.Dev:
			panic(err) // for the development server's page
		default:
			a.unavailable(env, start, err, yield)
			return
		}
		a.count(c.w)
		x := exchange{app: a, c: c, env: env, start: start}
		x.run(yield)
	}
}

// prefetchSize is how much of a request's body comes to Go before the
// request takes a worker's thread.
const prefetchSize = 64 << 10

// awaitBody reads the start of the request's body, if it may have one,
// before the request takes a worker's thread: the whole body if it is
// smaller than prefetchSize, else that much. A client that announces a body
// and sends none, or sends it slowly, waits on Go's side (until the server
// cuts it off, see serve.MinBodyRate), never on a thread; a larger body
// streams to the app from then on. It reports false when the body could
// not be read. A request that expects 100 Continue gets it from this first
// read, as nginx in front would send it: an app cannot refuse the body
// before it comes, but a client cannot hold a thread by never sending it.
func awaitBody(env wsgi.Environ) bool {
	if env.Get("CONTENT_LENGTH") == "0" {
		return true
	}
	in := env.Input()
	// The first byte alone first: most requests have no body (a GET's
	// CONTENT_LENGTH is as empty as a chunked body's), and cost no buffer.
	var first [1]byte
	if n, err := io.ReadFull(in, first[:]); n == 0 {
		return err == io.EOF
	}
	size := prefetchSize
	if n, err := strconv.Atoi(env.Get("CONTENT_LENGTH")); err == nil && n >= 1 && n < size {
		size = n
	}
	start := make([]byte, size)
	start[0] = first[0]
	n, err := io.ReadFull(in, start[1:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return false
	}
	env["wsgi.input"] = io.MultiReader(bytes.NewReader(start[:1+n]), in)
	return true
}

// An exchange is one request on a channel.
type exchange struct {
	app   *App
	c     *channel
	env   wsgi.Environ
	start wsgi.StartResponse
	write func([]byte) error
	in    []byte // the request body's block being sent
	begun bool   // body bytes went to the gateway: the headers may be out
}

// The end of an exchange, as far as the channel is concerned.
type ending int

const (
	endStopped ending = iota // the body was stopped early: the worker must be told
	endClean                 // the worker sent done or an exception: the channel is free
	endBroken                // the channel failed: it cannot be used again
)

func (x *exchange) run(yield func([]byte) bool) {
	end := endStopped
	defer func() {
		switch end {
		case endClean:
			x.app.release(x.c)
		case endBroken:
			x.app.discard(x.c)
		default:
			go x.stop()
		}
	}()
	if err := x.c.sendRequest(x.env); err != nil {
		end = endBroken
		x.broken(err, yield)
		return
	}
	for {
		kind, p, err := readFrame(x.c.r)
		if err != nil {
			end = endBroken
			x.broken(err, yield)
			return
		}
		switch kind {
		case frameChunk:
			x.begun = x.begun || len(p) > 0
			if !yield(p) {
				return
			}
		case frameStart:
			call, err := decodeStart(p)
			if err != nil {
				end = endBroken
				x.broken(err, yield)
				return
			}
			if call.exc != nil {
				x.write = x.start(call.status, call.headers, call.exc)
			} else {
				x.write = x.start(call.status, call.headers)
			}
		case frameWrite:
			if x.write == nil {
				end = endBroken
				x.broken(protocolErrorf("a write frame came before a start frame"), yield)
				return
			}
			x.begun = x.begun || len(p) > 0
			if x.write(p) != nil {
				return // the gateway knows why, and reports it
			}
		case frameRead:
			if err := x.answerRead(p); err != nil {
				end = endBroken
				x.broken(err, yield)
				return
			}
		case frameErrors:
			x.env.Errors().Write(p)
		case frameDone:
			end = endClean
			return
		case frameException:
			exc, err := decodeException(p)
			if err != nil {
				end = endBroken
				x.broken(err, yield)
				return
			}
			end = endClean
			panic(exc)
		default:
			end = endBroken
			x.broken(protocolErrorf("frame %q arrived during a response", kind), yield)
			return
		}
	}
}

// answerRead reads what the app asked of the request body, and sends it:
// as an input frame, or as the last one at the body's end, or the error.
// The buffer lasts the request: a large body goes through it block by block.
func (x *exchange) answerRead(p []byte) error {
	n, err := decodeRead(p)
	if err != nil {
		return err
	}
	if cap(x.in) < headerSize+n {
		x.in = make([]byte, headerSize+max(n, 16<<10))
	}
	buf := x.in[:headerSize+n]
	got, err := io.ReadFull(x.env.Input(), buf[headerSize:])
	kind := frameInput
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		kind = frameInputEnd
	case err != nil:
		return x.c.send(frameInputError, []byte("reading the request body failed: "+err.Error()))
	}
	appendHeader(buf[:0], kind, got)
	_, err = x.c.conn.Write(buf[:headerSize+got])
	return err
}

// stop tells the worker to stop a response whose client is gone, and waits,
// off the request's goroutine, for the worker to have closed the body; then
// the channel is free again. What the worker sends meanwhile is dropped,
// but for wsgi.errors and an exception, which go to wsgi.errors.
func (x *exchange) stop() {
	c := x.c
	if err := c.send(frameStop, nil); err != nil {
		x.app.discard(c)
		return
	}
	for {
		kind, p, err := readFrame(c.r)
		if err != nil {
			x.app.discard(c)
			return
		}
		switch kind {
		case frameRead:
			if err := c.send(frameInputEnd, nil); err != nil {
				x.app.discard(c)
				return
			}
		case frameErrors:
			x.env.Errors().Write(p)
		case frameException:
			if exc, err := decodeException(p); err == nil {
				fmt.Fprintf(x.env.Errors(), "python: the app raised after its client went away:\n%s", exc.TracebackText())
			}
			x.app.release(c)
			return
		case frameDone:
			x.app.release(c)
			return
		}
	}
}

// broken ends a request whose channel failed. In development it panics
// with the failure, as a failing app does. In production the client gets
// 502 Bad Gateway, or, once body bytes went out, loses its connection (no
// status can follow them, and a cut is what tells it the body is not
// whole); a request whose connection closed already (the drain's grace
// ran out) is cut too. The log says which, and why, in one line.
func (x *exchange) broken(err error, yield func([]byte) bool) {
	err = x.failure(err)
	if x.app.opts.Dev {
		panic(err)
	}
	switch {
	case x.begun:
		x.app.logf("%v: %s was cut off after its first body bytes", err, describeRequest(x.env))
		panic(http.ErrAbortHandler)
	case x.env.Context().Err() != nil:
		x.app.logf("%v: %s was cut off: its connection had closed", err, describeRequest(x.env))
		panic(http.ErrAbortHandler)
	}
	x.app.logf("%v: %s answered 502 Bad Gateway", err, describeRequest(x.env))
	h := wsgi.Headers{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}, {Name: "Cache-Control", Value: "no-store"}}
	if x.write != nil {
		x.start("502 Bad Gateway", h, err) // aborts the response if it is under way
	} else {
		x.start("502 Bad Gateway", h)
	}
	yield([]byte("502 Bad Gateway\n"))
}

// unavailable answers a request no worker can take, since none is running
// (the app does not load any more) or the app is stopping: 503 with
// Retry-After, which a proxy in front takes to another instance, and a
// line to Options.Logf that says why.
func (a *App) unavailable(env wsgi.Environ, start wsgi.StartResponse, err error, yield func([]byte) bool) {
	a.logf("%v: %s answered 503 Service Unavailable", err, describeRequest(env))
	start("503 Service Unavailable", wsgi.Headers{
		{Name: "Content-Type", Value: "text/plain; charset=utf-8"},
		{Name: "Cache-Control", Value: "no-store"},
		{Name: "Retry-After", Value: "1"},
	})
	yield([]byte("503 Service Unavailable\n"))
}

// describeRequest names a request in a log line, with its id if it has one.
func describeRequest(env wsgi.Environ) string {
	what := env.Get("REQUEST_METHOD") + " " + env.Get("REQUEST_URI")
	if id := env.Get("wsgo.request_id"); id != "" {
		what += " (request id " + id + ")"
	}
	return what
}

// failure explains a broken channel to the gateway, which logs it: the
// worker died (how, when known), the app is stopping, or the protocol broke.
func (x *exchange) failure(err error) error {
	w := x.c.w
	if errors.Is(err, errProtocol) {
		return err
	}
	if x.app.isClosing() {
		return errors.New("python: the app was stopped while it served this request")
	}
	if w.waitExit(killGrace) {
		return fmt.Errorf("python: the worker (pid %d) %s while it served this request; another is starting", w.pid, w.exitDescription())
	}
	return fmt.Errorf("python: the channel to the worker (pid %d) failed: %v", w.pid, err)
}
