package serve

import (
	"io"
	"sync"
	"time"
)

// logBatch is how long access log lines may wait to be written together.
const logBatch = 20 * time.Millisecond

// maxHeld is how much of the access log a batch holds before it is written
// whatever the delay.
const maxHeld = 32 << 10

// A batchWriter is what a built program's log writes to. Access log lines
// are held (see hold) and written together, up to a delay apart: under
// load, one write system call carries many requests' lines instead of one
// each, which cost more than the rest of the line. Everything else (the
// program's messages, the server's errors, the apps' failures) goes out at
// once, after what is held, so that the order of lines is kept. Flush
// before the process exits.
type batchWriter struct {
	mu    sync.Mutex
	w     io.Writer
	delay time.Duration // 0: nothing is held
	held  []byte
	timer *time.Timer
	armed bool

	// The text log's last time stamp, and the second it shows: under
	// load, many lines share a second, which is formatted once.
	stamp    []byte
	stampSec int64
}

// Write writes p at once, after the lines held.
func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	return b.w.Write(p)
}

// batch makes b hold access lines for up to delay.
func (b *batchWriter) batch(delay time.Duration) {
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
func (b *batchWriter) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *batchWriter) flushLocked() {
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

// hold writes one access line, which add appends to the buffer it is
// given (and to which nothing else may keep a reference), or holds it for
// the next batch.
func (b *batchWriter) hold(add func(buf []byte) []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.held = add(b.held)
	switch {
	case b.delay <= 0, len(b.held) >= maxHeld:
		b.flushLocked()
	case !b.armed:
		b.armed = true
		b.timer.Reset(b.delay)
	}
}

// appendStamp appends t as log.LstdFlags shows it; b.mu is held.
func (b *batchWriter) appendStamp(buf []byte, t time.Time) []byte {
	if sec := t.Unix(); sec != b.stampSec || b.stamp == nil {
		b.stamp = t.AppendFormat(b.stamp[:0], "2006/01/02 15:04:05 ")
		b.stampSec = sec
	}
	return append(buf, b.stamp...)
}
