package devserver

import (
	"context"
	"errors"
	stdlog "log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Server is an http.Server with the limits a development server should still
// have, and a hand-over that moves keep-alive clients to the next server
// without failing a request.
type Server struct {
	*http.Server

	closing atomic.Bool
	mu      sync.Mutex
	conns   map[net.Conn]http.ConnState
	onDrain []func()
}

// OnDrain registers f to run when the server starts to drain, by Handover or
// Shutdown: a place to end long-lived streams, which would hold it open.
func (s *Server) OnDrain(f func()) {
	s.mu.Lock()
	s.onDrain = append(s.onDrain, f)
	s.mu.Unlock()
	s.RegisterOnShutdown(f)
}

// NewServer returns a Server for h with a ReadHeaderTimeout (net/http has
// none by default, which lets a slow client hold a connection open forever),
// a cap on header size, and an idle timeout. Its own errors go to log.
func NewServer(h http.Handler, log *Logger) *Server {
	s := &Server{conns: map[net.Conn]http.ConnState{}}
	s.Server = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s.closing.Load() {
				w.Header().Set("Connection", "close")
			}
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          stdlog.New(log, "", 0),
		ConnState:         s.track,
	}
	return s
}

func (s *Server) track(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == http.StateClosed || state == http.StateHijacked {
		delete(s.conns, c)
		return
	}
	s.conns[c] = state
}

func (s *Server) openConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Handover stops accepting on ln and hands this server's clients to whatever
// else accepts on the same socket. Closing an idle keep-alive connection
// races with a request the client may be sending on it, so instead every
// response from now on carries "Connection: close", and for up to linger the
// server waits for its connections to go that way. Then it shuts down as
// Shutdown does, which waits for requests in flight until ctx is done.
func (s *Server) Handover(ctx context.Context, ln net.Listener, linger time.Duration) error {
	s.closing.Store(true)
	ln.Close()
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
	if err := s.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
		return err // ErrClosed: the listener closed above, before Serve let go of it
	}
	return nil
}
