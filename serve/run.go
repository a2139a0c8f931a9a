package serve

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wsgo/wsgo/reload/control"
)

// A Run is one server on a listening socket, from start to drain: what the
// dev server's processes and a built program's do alike.
type Run struct {
	Handler  http.Handler
	Grace    time.Duration // how long requests in flight may take to finish
	ErrorLog io.Writer     // the http.Server's own errors

	// ReadTimeout is the longest the server waits for the next bytes of a
	// request body, and for its first ones from the request's start; a
	// client that sends nothing for that long loses its connection, and
	// cannot hold a drain. If zero, it is DefaultReadTimeout, or half the
	// Grace if that is shorter.
	ReadTimeout time.Duration

	// WriteTimeout is the longest a write of a response waits for the
	// client to take bytes; a client that takes none for that long loses
	// its connection, and the request its handler. If zero, it is
	// DefaultWriteTimeout.
	WriteTimeout time.Duration

	OnDrain  func()       // ends long-lived streams when the drain starts
	Ready    func() error // tells a supervisor this server serves
	Reload   func()       // tells the browsers to reload their pages
	Restyle  func()       // tells the browsers to fetch their stylesheets again
	Stopping func()       // says that the drain begins
}

// Serve serves on ln until ctx is done or msgs asks it to stop or hand over
// (or is closed: the supervisor went away), then drains: requests in flight
// get Grace to finish, or less if now is closed or msgs says StopNow. It
// returns the requests it had to cut short, as "GET /path (running 5.1s)".
func (r *Run) Serve(ctx context.Context, now <-chan struct{}, ln net.Listener, msgs <-chan control.Message) ([]string, error) {
	tracked := TrackInFlight(r.Handler)
	srv := NewServer(tracked, r.ErrorLog)
	srv.readTimeout = r.readTimeout()
	if r.WriteTimeout > 0 {
		srv.writeTimeout = r.WriteTimeout
	}
	if r.OnDrain != nil {
		srv.OnDrain(r.OnDrain)
	}
	served := srv.Go(ln)
	if r.Ready != nil {
		if err := r.Ready(); err != nil {
			srv.Close()
			return nil, err
		}
	}
	handover, err := r.wait(ctx, served, msgs)
	if err != nil {
		return nil, err
	}
	if r.Stopping != nil {
		r.Stopping()
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), r.Grace)
	defer cancel()
	go cutShortOn(drainCtx, cancel, now, msgs)
	if handover {
		err = srv.Handover(drainCtx, ln, min(r.Grace, time.Second))
	} else {
		err = srv.Stop(drainCtx, ln)
	}
	if err == nil {
		return nil, nil
	}
	cut := tracked.List()
	srv.Close()
	return cut, nil
}

func (r *Run) readTimeout() time.Duration {
	switch {
	case r.ReadTimeout > 0:
		return r.ReadTimeout
	case r.Grace > 0:
		return min(DefaultReadTimeout, r.Grace/2)
	}
	return DefaultReadTimeout
}

// Error describes a stop that cut requests short, for a person.
func Error(cut []string, grace time.Duration, now <-chan struct{}) error {
	if len(cut) == 0 {
		return nil
	}
	select {
	case <-now:
		return fmt.Errorf("stopped at once, as asked; cut off: %s", strings.Join(cut, ", "))
	default:
		return fmt.Errorf("stopped after the grace of %s with requests still in flight; cut off: %s", grace, strings.Join(cut, ", "))
	}
}

// wait waits for the signal to stop, and reports whether it asks for a
// hand-over to a next server.
func (r *Run) wait(ctx context.Context, served <-chan error, msgs <-chan control.Message) (handover bool, err error) {
	for {
		select {
		case err := <-served:
			return false, fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
			return false, nil
		case m, ok := <-msgs:
			switch {
			case !ok, m == control.Stop: // no supervisor any more, or it asks
				return false, nil
			case m == control.Handover:
				return true, nil
			case m == control.ReloadPages && r.Reload != nil:
				r.Reload()
			case m == control.ReloadStyles && r.Restyle != nil:
				r.Restyle()
			}
		}
	}
}

// cutShortOn cancels a drain when now closes or the supervisor says
// StopNow, until the drain ends.
func cutShortOn(drain context.Context, cancel func(), now <-chan struct{}, msgs <-chan control.Message) {
	for {
		select {
		case <-now:
			cancel()
			return
		case m, ok := <-msgs:
			if !ok {
				msgs = nil // the supervisor is gone: the grace still applies
				continue
			}
			if m == control.StopNow {
				cancel()
				return
			}
		case <-drain.Done():
			return
		}
	}
}
