package cmd

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/reload"
	"github.com/wsgo/wsgo/serve"
)

// instance is one server on a listening socket, from start to drain.
type instance struct {
	handler http.Handler
	grace   time.Duration
	log     *devserver.Logger
	onDrain func()       // ends long-lived streams when the drain starts
	ready   func() error // tells a supervisor this server serves
	reload  func()       // tells the browsers to reload their pages
	quiet   bool         // a supervisor tells the story of a stop
}

func (o serveOptions) instance(h http.Handler, log *devserver.Logger) *instance {
	return &instance{handler: h, grace: o.grace, log: log}
}

// run serves on ln until ctx is done, then drains, and fails when requests
// in flight had to be cut short.
func (in *instance) run(ctx context.Context, now <-chan struct{}, ln net.Listener, msgs <-chan reload.Message) error {
	cut, err := in.serve(ctx, now, ln, msgs)
	if err != nil || len(cut) == 0 {
		return err
	}
	select {
	case <-now:
		return fmt.Errorf("stopped at once, as asked; cut off: %s", strings.Join(cut, ", "))
	default:
		return fmt.Errorf("stopped after --grace %s with requests still in flight; cut off: %s", in.grace, strings.Join(cut, ", "))
	}
}

// serve serves on ln until ctx is done, msgs asks it to stop or hand over
// (or is closed), then drains: requests in flight get grace to finish, or
// less if now is closed. It returns the requests it had to cut short.
func (in *instance) serve(ctx context.Context, now <-chan struct{}, ln net.Listener, msgs <-chan reload.Message) ([]string, error) {
	defer in.log.Flush() // every request's line, before the process goes
	tracked := serve.TrackInFlight(in.handler)
	srv := serve.NewServer(tracked, in.log)
	if in.onDrain != nil {
		srv.OnDrain(in.onDrain)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if in.ready != nil {
		if err := in.ready(); err != nil {
			srv.Close()
			return nil, err
		}
	}
	handover, err := in.wait(ctx, served, msgs)
	if err != nil {
		return nil, err
	}
	if !in.quiet {
		in.log.Printf(" * Stopping: letting requests in flight finish (Ctrl-C again to stop now)")
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), in.grace)
	defer cancel()
	go func() {
		for {
			select {
			case <-now:
				cancel()
				return
			case m, ok := <-msgs:
				if ok && m != reload.StopNow {
					continue
				}
				if ok {
					cancel()
				}
				msgs = nil // the supervisor is gone: grace still applies
			case <-drainCtx.Done():
				return
			}
		}
	}()
	if handover {
		err = srv.Handover(drainCtx, ln, min(in.grace, time.Second))
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

// wait waits for the signal to stop, and reports whether it asks for a
// hand-over to a next server.
func (in *instance) wait(ctx context.Context, served <-chan error, msgs <-chan reload.Message) (handover bool, err error) {
	for {
		select {
		case err := <-served:
			return false, fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
			return false, nil
		case m, ok := <-msgs:
			switch {
			case !ok, m == reload.Stop: // no supervisor any more, or it asks
				return false, nil
			case m == reload.Handover:
				return true, nil
			case m == reload.ReloadPages && in.reload != nil:
				in.reload()
			}
		}
	}
}
