package wsgi

import (
	"sync"
	"time"
)

// flushes is the one flusher every gateway's responses share.
var flushes flusher

// A flusher sends output that responses have left in their buffers: every
// flushTick, a response whose output has waited a whole tick gets flushed,
// so nothing waits more than two ticks (flushDelay). One timer serves every
// response, and runs only while some response has output waiting: a
// response does not pay for a timer of its own, which most would stop
// unused, since most bodies end (and go out with the handler's return) long
// before a flush is due.
type flusher struct {
	mu    sync.Mutex
	tick  uint64    // ticks so far
	first *response // responses with output waiting, linked by next and prev
	timer *time.Timer
	armed bool
}

// flushTick is half of flushDelay: output waits at least one tick and at
// most two before it is flushed.
const flushTick = flushDelay / 2

// add notes that rs has output waiting, unless it is noted already; rs.mu
// is held. The output is flushed within flushDelay, or earlier by rs itself.
func (f *flusher) add(rs *response) {
	if rs.waiting {
		return
	}
	rs.waiting = true
	f.mu.Lock()
	defer f.mu.Unlock()
	rs.since = f.tick
	rs.prev, rs.next = nil, f.first
	if f.first != nil {
		f.first.prev = rs
	}
	f.first = rs
	if f.armed {
		return
	}
	f.armed = true
	if f.timer == nil {
		f.timer = time.AfterFunc(flushTick, f.run)
		return
	}
	f.timer.Reset(flushTick)
}

// remove forgets rs; rs.mu is held.
func (f *flusher) remove(rs *response) {
	if !rs.waiting {
		return
	}
	rs.waiting = false
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unlink(rs)
}

// unlink takes rs out of the list if it is there; f.mu is held.
func (f *flusher) unlink(rs *response) {
	switch {
	case rs.prev != nil:
		rs.prev.next = rs.next
	case f.first == rs:
		f.first = rs.next
	default:
		return // not in the list: due, and on its way to being flushed
	}
	if rs.next != nil {
		rs.next.prev = rs.prev
	}
	rs.prev, rs.next = nil, nil
}

// run is the timer's tick: it flushes every response whose output has
// waited since the tick before last.
func (f *flusher) run() {
	for _, rs := range f.due() {
		rs.flushNow()
	}
}

// due takes out of the list the responses to flush now, and keeps the timer
// running while the list is not empty.
func (f *flusher) due() []*response {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tick++
	var due []*response
	for rs := f.first; rs != nil; {
		next := rs.next
		if f.tick-rs.since >= 2 {
			f.unlink(rs)
			due = append(due, rs)
		}
		rs = next
	}
	if f.first == nil {
		f.armed = false
	} else {
		f.timer.Reset(flushTick)
	}
	return due
}
