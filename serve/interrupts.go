package serve

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Interrupts turns SIGINT and SIGTERM into a stop in two steps: the first
// cancels ctx (finish what is in flight), the second closes now (stop at
// once). Set it up before anything is printed, so that a signal at any
// moment is honoured; Notify also takes back a SIGINT that a shell set to
// be ignored, as it does for a command started with &. Release stops
// catching the signals and cancels ctx.
func Interrupts(parent context.Context) (ctx context.Context, now <-chan struct{}, release func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(parent)
	stopNow, done := make(chan struct{}), make(chan struct{})
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
			close(stopNow)
		case <-done:
		}
	}()
	return ctx, stopNow, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}
