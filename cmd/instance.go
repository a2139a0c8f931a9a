package cmd

import (
	"context"
	"net"
	"net/http"

	"github.com/wsgo/wsgo/devserver"
	"github.com/wsgo/wsgo/reload/control"
	"github.com/wsgo/wsgo/serve"
)

// instance is one server of wsgo serve on a listening socket, from start to
// drain, with its request log.
type instance struct {
	serve.Run
	log   *devserver.Logger
	quiet bool // a supervisor tells the story of a stop
}

func (o serveOptions) instance(h http.Handler, log *devserver.Logger) *instance {
	return &instance{Run: serve.Run{Handler: h, Grace: o.grace, ErrorLog: log}, log: log}
}

// run serves on ln until ctx is done, then drains, and fails when requests
// in flight had to be cut short.
func (in *instance) run(ctx context.Context, now <-chan struct{}, ln net.Listener, msgs <-chan control.Message) error {
	cut, err := in.serve(ctx, now, ln, msgs)
	if err != nil {
		return err
	}
	return serve.Error(cut, in.Grace, now)
}

// serve is serve.Run's Serve, with the request log written out before the
// process goes, and the stop told unless a supervisor tells it.
func (in *instance) serve(ctx context.Context, now <-chan struct{}, ln net.Listener, msgs <-chan control.Message) ([]string, error) {
	defer in.log.Flush()
	if !in.quiet {
		in.Stopping = func() {
			in.log.Printf(" * Stopping: letting requests in flight finish (Ctrl-C again to stop now)")
		}
	}
	return in.Run.Serve(ctx, now, ln, msgs)
}
