package serve

import (
	"context"
	"errors"
	"io"
	stdlog "log"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Server is an http.Server with the limits a server should have, a drain
// that loses no request it accepted, and a hand-over that moves keep-alive
// clients to the next server on the same socket without failing a request.
type Server struct {
	*http.Server

	closing atomic.Bool
	serving sync.WaitGroup // calls of Serve under way
	open    atomic.Int64   // connections not yet closed or hijacked
	nfresh  atomic.Int64   // len(fresh), read without the lock
	mu      sync.Mutex
	fresh   map[net.Conn]bool // connections on which no request has begun
	onDrain []func()

	readTimeout  time.Duration // the longest wait for a request body's next bytes
	writeTimeout time.Duration // the longest wait for a client to take a response's bytes
}

// NewServer returns a Server for h with a ReadHeaderTimeout (net/http has
// none by default, which lets a slow client hold a connection open forever),
// a bound of [DefaultReadTimeout] on the wait for each next bytes of a
// request body (net/http has none either), a bound of
// [DefaultWriteTimeout] on each wait for the client to take a response's
// bytes, a cap on header size, and an idle timeout. Its own errors go to
// errorLog.
func NewServer(h http.Handler, errorLog io.Writer) *Server {
	s := &Server{fresh: map[net.Conn]bool{}, readTimeout: DefaultReadTimeout, writeTimeout: DefaultWriteTimeout}
	s.Server = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s.closing.Load() || ambiguousFraming(r) {
				w.Header().Set("Connection", "close")
			}
			h.ServeHTTP(w, s.bounded(w, r))
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(errorLog, "", 0),
		ConnState:         s.track,
	}
	return s
}

// ambiguousFraming reports a request after which the connection must close
// (RFC 9112 §6.1): one that may have come with both Transfer-Encoding and
// Content-Length, where a proxy in front could have framed the body by the
// other header and taken what follows for another request. net/http frames
// by Transfer-Encoding but deletes both headers first, so the two cases it
// leaves visible stand for all: any chunked body, and an HTTP/1.0 body (whose
// Transfer-Encoding net/http ignores, and RFC 9112 calls faulty framing).
func ambiguousFraming(r *http.Request) bool {
	if r.ProtoMajor != 1 {
		return false
	}
	return slices.Contains(r.TransferEncoding, "chunked") || r.ProtoMinor == 0 && r.ContentLength != 0
}

// track follows connections from their state changes, which net/http
// reports twice a request: only a connection's first request, after which
// it is no longer new, and its end change anything, and under keep-alive
// load no connection is new, which costs no lock.
func (s *Server) track(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.open.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fresh[c] = true
		s.nfresh.Add(1)
		return
	case http.StateClosed, http.StateHijacked:
		s.open.Add(-1)
	}
	if s.nfresh.Load() == 0 {
		return // c was counted at StateNew, before this change: it is not fresh
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fresh[c] {
		delete(s.fresh, c)
		s.nfresh.Add(-1)
	}
}

// OnDrain registers f to run when the server starts to drain: a place to end
// long-lived streams, which would otherwise hold it open.
func (s *Server) OnDrain(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onDrain = append(s.onDrain, f)
}

// Handover stops accepting on ln and hands this server's clients to whatever
// else accepts on the same socket. Closing an idle keep-alive connection
// races with a request the client may be sending on it, so instead every
// response from now on carries "Connection: close", and for up to linger the
// server waits for its connections to go that way. Then it drains as Stop does.
func (s *Server) Handover(ctx context.Context, ln net.Listener, linger time.Duration) error {
	return s.drain(ctx, ln, linger)
}

// Stop stops accepting on ln and waits, until ctx is done, for the requests
// in flight. Unlike Shutdown, it does not wait for connections that never
// sent a request: HTTP clients open spare connections, and Shutdown would
// wait five seconds for each before counting it idle.
func (s *Server) Stop(ctx context.Context, ln net.Listener) error {
	return s.drain(ctx, ln, 0)
}

// Serve accepts connections on ln until it is closed, as http.Server's
// Serve does; a drain waits for it to return (see drain).
func (s *Server) Serve(ln net.Listener) error {
	s.serving.Add(1)
	return s.serve(ln)
}

// Go serves ln in a goroutine of its own, and delivers Serve's result. Unlike
// `go srv.Serve(ln)`, a drain that begins at once still waits for it: the
// server counts it as serving before Go returns.
func (s *Server) Go(ln net.Listener) <-chan error {
	served := make(chan error, 1)
	s.serving.Add(1)
	go func() { served <- s.serve(ln) }()
	return served
}

func (s *Server) serve(ln net.Listener) error {
	defer s.serving.Done()
	if s.writeTimeout > 0 {
		ln = idleWriteListener{Listener: ln, timeout: s.writeTimeout}
	}
	return s.Server.Serve(ln)
}

func (s *Server) drain(ctx context.Context, ln net.Listener, linger time.Duration) error {
	s.closing.Store(true)
	ln.Close()
	// A connection accepted just before the close is counted only once
	// Serve, which may not have run since, records it; Shutdown would not
	// wait for it, and the process would exit with it unanswered.
	s.serving.Wait()
	s.mu.Lock()
	hooks := append([]func(){}, s.onDrain...)
	s.mu.Unlock()
	for _, f := range hooks {
		f()
	}
	deadline := time.Now().Add(linger)
	for s.openConns() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	// net/http's Shutdown drops a request it reads after it began, and a
	// connection accepted just before the close may hold one not yet read.
	for s.requestWaiting() && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	s.closeNew()
	if err := s.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
		return err // ErrClosed: the listener closed above, before Serve let go of it
	}
	return nil
}

// requestWaiting reports whether a connection on which no request has
// begun already has bytes to read: a request on its way, not a spare
// connection that a client opened in case it needs one.
func (s *Server) requestWaiting() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.fresh {
		if pending(c) {
			return true
		}
	}
	return false
}

// closeNew closes connections on which no request has begun.
func (s *Server) closeNew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.fresh {
		c.Close()
	}
}

func (s *Server) openConns() int {
	return int(s.open.Load())
}
