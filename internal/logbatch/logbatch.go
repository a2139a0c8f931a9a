// Package logbatch writes a request log in batches: under load, one write
// system call carries many requests' lines instead of one each, which cost
// more than the rest of a line. The development server's request log and
// the production access log both write through it.
package logbatch

import (
	"io"
	"sync"
	"time"
)

// maxHeld is how much a batch holds before it is written whatever the delay.
const maxHeld = 32 << 10

// A Writer holds request lines (see Hold) and writes them together, up to
// a delay apart. Everything else written to it goes out at once, after the
// lines held, so that the order of lines is kept. Call Flush before the
// process exits.
type Writer struct {
	mu     sync.Mutex
	w      io.Writer
	layout string // of the time stamps Hold gives
	delay  time.Duration
	held   []byte
	timer  *time.Timer
	armed  bool

	// The last time stamp, and the second it shows: under load, many
	// lines share a second, which is formatted once.
	stamp    []byte
	stampSec int64
}

// New returns a Writer to w whose lines' time stamps are formatted with
// layout (time.Time.Format's). It holds nothing until Batch.
func New(w io.Writer, layout string) *Writer { return &Writer{w: w, layout: layout} }

// Write writes p at once, after the lines held.
func (b *Writer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	return b.w.Write(p)
}

// Batch makes b hold lines for up to delay.
func (b *Writer) Batch(delay time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	b.delay = delay
	if b.timer == nil {
		b.timer = time.AfterFunc(time.Hour, b.Flush)
		b.timer.Stop()
	}
}

// Flush writes the lines held.
func (b *Writer) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *Writer) flushLocked() {
	if b.armed {
		b.timer.Stop()
		b.armed = false
	}
	if len(b.held) == 0 {
		return
	}
	b.w.Write(b.held)
	b.held = b.held[:0]
}

// Hold writes one line, or holds it for the next batch. add appends the
// line to the buffer it is given (to which nothing may keep a reference),
// with stamp, the time now formatted with the Writer's layout.
func (b *Writer) Hold(now time.Time, add func(buf, stamp []byte) []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if sec := now.Unix(); sec != b.stampSec || b.stamp == nil {
		b.stamp = now.AppendFormat(b.stamp[:0], b.layout)
		b.stampSec = sec
	}
	b.held = add(b.held, b.stamp)
	switch {
	case b.delay <= 0, len(b.held) >= maxHeld:
		b.flushLocked()
	case !b.armed:
		b.armed = true
		b.timer.Reset(b.delay)
	}
}
