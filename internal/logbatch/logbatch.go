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
//
// A batch is written without the lock that holding a line takes: a
// request whose line fills a batch writes it, while the others go on
// holding theirs instead of waiting for the disk. Batches go out one at a
// time, in the order they were taken.
type Writer struct {
	mu     sync.Mutex // over the batch: held, spare, taken, the timer, the stamp
	w      io.Writer
	layout string // of the time stamps Hold gives
	delay  time.Duration
	held   []byte
	spare  []byte // a written batch's buffer, for the next
	taken  uint64 // batches taken to be written
	timer  *time.Timer
	armed  bool

	// The last time stamp, and the second it shows: under load, many
	// lines share a second, which is formatted once.
	stamp    []byte
	stampSec int64

	out     sync.Mutex // over written, and the writes to w
	turn    sync.Cond  // on out: a batch was written
	written uint64     // batches written
}

// New returns a Writer to w whose lines' time stamps are formatted with
// layout (time.Time.Format's). It holds nothing until Batch.
func New(w io.Writer, layout string) *Writer {
	b := &Writer{w: w, layout: layout}
	b.turn.L = &b.out
	return b
}

// Write writes p at once, after the lines held.
func (b *Writer) Write(p []byte) (int, error) {
	b.mu.Lock()
	n, batch := b.take()
	b.mu.Unlock()
	return b.writeOut(n, batch, p)
}

// Batch makes b hold lines for up to delay.
func (b *Writer) Batch(delay time.Duration) {
	b.mu.Lock()
	n, batch := b.take()
	b.delay = delay
	if b.timer == nil {
		b.timer = time.AfterFunc(time.Hour, b.Flush)
		b.timer.Stop()
	}
	b.mu.Unlock()
	b.writeOut(n, batch, nil)
}

// Flush writes the lines held, once the batches before them are written.
func (b *Writer) Flush() {
	b.mu.Lock()
	n, batch := b.take()
	b.mu.Unlock()
	b.writeOut(n, batch, nil)
}

// Hold writes one line, or holds it for the next batch. add appends the
// line to the buffer it is given (to which nothing may keep a reference),
// with stamp, the time now formatted with the Writer's layout.
func (b *Writer) Hold(now time.Time, add func(buf, stamp []byte) []byte) {
	b.mu.Lock()
	if sec := now.Unix(); sec != b.stampSec || b.stamp == nil {
		b.stamp = now.AppendFormat(b.stamp[:0], b.layout)
		b.stampSec = sec
	}
	b.held = add(b.held, b.stamp)
	if b.delay > 0 && len(b.held) < maxHeld {
		if !b.armed {
			b.armed = true
			b.timer.Reset(b.delay)
		}
		b.mu.Unlock()
		return
	}
	n, batch := b.take()
	b.mu.Unlock()
	b.writeOut(n, batch, nil)
}

// take takes the lines held as the next batch to write, and its number;
// b.mu is held.
func (b *Writer) take() (n uint64, batch []byte) {
	if b.armed {
		b.timer.Stop()
		b.armed = false
	}
	batch, b.held, b.spare = b.held, b.spare[:0], nil
	n = b.taken
	b.taken++
	return n, batch
}

// writeOut writes batch n, then p, once the batches before it are
// written, and keeps batch's buffer for a next one.
func (b *Writer) writeOut(n uint64, batch, p []byte) (nw int, err error) {
	b.out.Lock()
	for b.written != n {
		b.turn.Wait()
	}
	if len(batch) > 0 {
		b.w.Write(batch)
	}
	if p != nil {
		nw, err = b.w.Write(p)
	}
	b.written++
	b.turn.Broadcast()
	b.out.Unlock()

	if cap(batch) > 0 && cap(batch) <= 2*maxHeld {
		b.mu.Lock()
		if b.spare == nil {
			b.spare = batch[:0]
		}
		b.mu.Unlock()
	}
	return nw, err
}
