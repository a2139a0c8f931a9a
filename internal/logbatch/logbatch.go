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
// A batch is written without the lock that holding a line takes: while a
// request writes a full batch to a slow file, the others go on holding
// their lines instead of waiting for the disk. One batch is written at a
// time; a request that fills the next one before that write is done
// waits for it, so that a log slower than the requests slows them down
// rather than piling their lines up in memory.
type Writer struct {
	mu      sync.Mutex
	idle    sync.Cond // on mu: no batch is being written
	writing bool      // a batch is being written, without mu
	w       io.Writer
	layout  string // of the time stamps Hold gives
	delay   time.Duration
	held    []byte
	spare   []byte // the buffer of the batch written last, for the next
	timer   *time.Timer
	armed   bool

	// The last time stamp, and the second it shows: under load, many
	// lines share a second, which is formatted once.
	stamp    []byte
	stampSec int64
}

// New returns a Writer to w whose lines' time stamps are formatted with
// layout (time.Time.Format's). It holds nothing until Batch.
func New(w io.Writer, layout string) *Writer {
	b := &Writer{w: w, layout: layout}
	b.idle.L = &b.mu
	return b
}

// Write writes p at once, after the lines held.
func (b *Writer) Write(p []byte) (int, error) { return b.writeOut(b.take(), p) }

// Batch makes b hold lines for up to delay.
func (b *Writer) Batch(delay time.Duration) {
	b.Flush()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.delay = delay
	if b.timer == nil {
		b.timer = time.AfterFunc(time.Hour, b.Flush)
		b.timer.Stop()
	}
}

// Flush writes the lines held.
func (b *Writer) Flush() { b.writeOut(b.take(), nil) }

// Hold writes one line, or holds it for the next batch. add appends the
// line to the buffer it is given (to which nothing may keep a reference),
// with stamp, the time now formatted with the Writer's layout.
func (b *Writer) Hold(now time.Time, add func(buf, stamp []byte) []byte) {
	if batch, full := b.hold(now, add); full {
		b.writeOut(batch, nil)
	}
}

// hold adds a line to the batch, and takes the batch if it is due.
func (b *Writer) hold(now time.Time, add func(buf, stamp []byte) []byte) (batch []byte, due bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
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
		return nil, false
	}
	return b.takeLocked(), true
}

// take waits until no batch is being written, and takes the lines held
// as the batch to write next; the caller must pass it to writeOut.
func (b *Writer) take() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.takeLocked()
}

func (b *Writer) takeLocked() []byte {
	for b.writing {
		b.idle.Wait()
	}
	if b.armed {
		b.timer.Stop()
		b.armed = false
	}
	b.writing = true
	batch := b.held
	b.held, b.spare = b.spare[:0], nil
	return batch
}

// writeOut writes batch, which take gave, then p; without b.mu, so that
// lines can be held meanwhile.
func (b *Writer) writeOut(batch, p []byte) (int, error) {
	defer b.written(batch)
	if len(batch) > 0 {
		b.w.Write(batch)
	}
	if p == nil {
		return 0, nil
	}
	return b.w.Write(p)
}

// written lets the next batch be written, and keeps batch's buffer for it.
func (b *Writer) written(batch []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writing = false
	if b.spare == nil && cap(batch) <= 2*maxHeld {
		b.spare = batch[:0]
	}
	b.idle.Broadcast()
}
