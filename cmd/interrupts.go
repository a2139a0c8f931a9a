package cmd

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// interrupts turns SIGINT and SIGTERM into a stop in two steps: the first
// cancels ctx (finish what is in flight), the second closes now (stop at
// once). It is set up before wsgo prints anything, so that a Ctrl-C at any
// moment is honoured; Notify also takes back a SIGINT that a shell set to
// be ignored, as it does for a command started with &.
type interrupts struct {
	ctx     context.Context
	now     chan struct{}
	release func()
}

func catchInterrupts(parent context.Context) *interrupts {
	if parent == nil {
		parent = context.Background()
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(parent)
	now, done := make(chan struct{}), make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
		case <-done:
			return
		}
		cancel()
		select {
		case <-sigs:
			close(now)
		case <-done:
		}
	}()
	return &interrupts{ctx: ctx, now: now, release: func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}}
}
