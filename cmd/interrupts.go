package cmd

import (
	"context"

	"github.com/wsgo/wsgo/serve"
)

// interrupts is serve.Interrupts for a command: ctx is cancelled at the
// first SIGINT or SIGTERM, now closed at the second.
type interrupts struct {
	ctx     context.Context
	now     <-chan struct{}
	release func()
}

func catchInterrupts(parent context.Context) *interrupts {
	if parent == nil {
		parent = context.Background()
	}
	ctx, now, release := serve.Interrupts(parent)
	return &interrupts{ctx: ctx, now: now, release: release}
}
