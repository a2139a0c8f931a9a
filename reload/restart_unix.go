//go:build unix

package reload

import (
	"context"
	"fmt"
	"time"
)

// stoppedByItself restarts the current server, which exited unasked (a
// crash, the OOM killer, kill -9).
func (c *supervision) stoppedByItself(p *proc) {
	if time.Since(c.since) >= settled {
		c.restarts = 0 // it served long enough: this is a new story
	}
	c.swap(nil, "")
	why := fmt.Sprintf("Server pid %d stopped (%s)", p.pid(), p.exitReason())
	if plan, ok := c.plan(why); ok {
		c.warnf(" * %s; %s", why, plan)
	}
}

// again plans a restart after a start that failed while no server serves.
func (c *supervision) again(why string) {
	if plan, ok := c.plan(why); ok {
		c.s.Log.Printf(" * Nothing serves: %s", plan)
	}
}

// plan schedules the next restart, at once the first time in a row and
// then after a backoff that doubles up to MaxBackoff, and says so; or,
// after MaxRestarts in a row, gives up: Run then ends.
func (c *supervision) plan(why string) (string, bool) {
	if limit := c.s.MaxRestarts; limit > 0 && c.restarts >= limit {
		c.s.Log.Errorf(" * %d restarts in a row kept no server up; giving up", c.restarts)
		c.gaveUp = fmt.Errorf("%w: %s, after %d restarts in a row", ErrGaveUp, why, c.restarts)
		return "", false
	}
	wait := c.backoff()
	c.restarts++
	c.cancelRetry()
	c.retry = time.NewTimer(wait)
	c.retryC = c.retry.C
	c.standby.retryAt(time.Now().Add(wait))
	what := "rebuilding to restart it"
	if c.s.Production {
		what = "restarting the program that last served"
		if c.last == nil {
			what = "starting the program again"
		}
	}
	if wait == 0 {
		return what, true
	}
	plan := fmt.Sprintf("%s in %s (restart %d in a row", what, round(wait), c.restarts)
	switch {
	case c.s.Production && c.s.MaxRestarts > 0:
		plan += fmt.Sprintf(" of at most %d)", c.s.MaxRestarts)
	case c.s.Production:
		plan += ")"
	default:
		plan += "; a save or Enter restarts it now)"
	}
	return plan, true
}

// backoff is the wait before the next restart in a row.
func (c *supervision) backoff() time.Duration {
	if c.restarts == 0 {
		return 0
	}
	wait := c.s.Backoff
	for i := 1; i < c.restarts && wait < c.s.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, c.s.MaxBackoff)
}

// restart starts the server again, now that its restart is due: in
// production from the program that last became ready (a crash is not a
// deploy, and the program on disk may be newer and broken), else from a
// new build.
func (c *supervision) restart() {
	c.standby.retryAt(time.Time{})
	if !c.s.Production || c.last == nil {
		c.rebuild(true)
		return
	}
	last := *c.last
	last.Temporary = false // still the supervisor's to keep
	c.begin(func(ctx context.Context) result { return c.start(ctx, &last, 0, false) })
}

// fresh forgets the restarts in a row, for a new program: a change or a
// deploy. A restart still due is left to the build it asks for.
func (c *supervision) fresh() {
	c.restarts = 0
	c.cancelRetry()
}

func (c *supervision) cancelRetry() {
	if c.retry != nil {
		c.retry.Stop()
	}
	c.retry, c.retryC = nil, nil
	c.standby.retryAt(time.Time{})
}

// limit names a setting in a message: by its flag for a developer, by its
// value alone for a production program, whose flags are its own.
func (c *supervision) limit(flag string, d time.Duration) string {
	if c.s.Production {
		return d.String()
	}
	return fmt.Sprintf("--%s %s", flag, d)
}

// detail is what follows a failure's title: its output, unless it is in
// the terminal already.
func detail(r result) string {
	if r.shown || r.problem == "" {
		return ""
	}
	return ":\n" + indent(r.problem)
}

func (c *supervision) warnf(format string, args ...any) {
	if w, ok := c.s.Log.(Warner); ok {
		w.Warnf(format, args...)
		return
	}
	c.s.Log.Errorf(format, args...)
}
