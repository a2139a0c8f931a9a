//go:build unix

package reload

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// standby answers on the held socket while no server process is alive and
// none is on its way: 503 Service Unavailable with Retry-After, at once, so
// that a client (or a proxy, which then tries another instance) is not
// left waiting in the socket's queue for a server that is not coming.
//
// It must never accept while a server might: the supervision starts it
// only with no server alive, starting or being built, and stops it (its
// own descriptor closed, so that it accepts nothing more) before any
// server starts.
type standby struct {
	socket *os.File     // the shared socket; each start accepts on a duplicate
	next   atomic.Int64 // Unix nanoseconds of the next start, if one is due
	ln     net.Listener // nil when stopped
	closes sync.WaitGroup
}

// standbyTimeout bounds each answer, so that a silent client cannot hold
// the supervisor's stop.
const standbyTimeout = 2 * time.Second

// discardLog drops the standby's own errors: a client that went away.
var discardLog = log.New(io.Discard, "", 0)

// start begins to answer, unless it does already. An error leaves clients
// waiting in the queue, as without it.
func (s *standby) start() error {
	if s.ln != nil {
		return nil
	}
	ln, err := net.FileListener(s.socket)
	if err != nil {
		return err
	}
	s.ln = ln
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.answer),
		ReadHeaderTimeout: standbyTimeout,
		WriteTimeout:      standbyTimeout,
		ErrorLog:          discardLog,
	}
	srv.SetKeepAlivesEnabled(false)
	s.closes.Add(1)
	go func() {
		defer s.closes.Done()
		srv.Serve(ln) // returns once stop closes ln
		// Answers under way finish; a client that sends nothing is cut off.
		ctx, cancel := context.WithTimeout(context.Background(), standbyTimeout)
		defer cancel()
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
	}()
	return nil
}

// stop ends accepting at once: once it returns, this process takes no
// connection from the socket. Answers under way finish in the background.
func (s *standby) stop() {
	if s.ln == nil {
		return
	}
	s.ln.Close()
	s.ln = nil
}

// wait waits for the answers under way, a bounded time.
func (s *standby) wait() { s.closes.Wait() }

// retryAt sets when the next server start is due, for Retry-After; zero
// when none is.
func (s *standby) retryAt(t time.Time) {
	if t.IsZero() {
		s.next.Store(0)
		return
	}
	s.next.Store(t.UnixNano())
}

func (s *standby) answer(w http.ResponseWriter, _ *http.Request) {
	secs := int64(1)
	if next := s.next.Load(); next != 0 {
		secs = max(1, (next-time.Now().UnixNano()+int64(time.Second)-1)/int64(time.Second))
	}
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
}
