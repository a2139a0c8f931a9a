package serve

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// DefaultReadTimeout is how long a server waits for the next bytes of a
// request body unless told otherwise (see [Run]'s ReadTimeout).
const DefaultReadTimeout = 5 * time.Second

// bounded returns r with a body that must keep coming: the server waits
// at most s.readTimeout for its first bytes, counted from now, and for each
// next ones. A client that sends headers and then nothing gets a read error
// and loses its connection, instead of holding it, and any drain, for ever.
// The bound holds for net/http's own reads too: before a response goes out,
// it reads up to 256 KiB of what the app left unread, through the original
// body, with the connection's deadline as the app's last read left it.
func (s *Server) bounded(w http.ResponseWriter, r *http.Request) *http.Request {
	if s.readTimeout <= 0 || r.Body == nil || r.Body == http.NoBody {
		return r
	}
	b := &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), timeout: s.readTimeout}
	if b.rc.SetReadDeadline(time.Now().Add(b.timeout)) != nil {
		return r // not a connection of net/http's HTTP/1 server
	}
	// A copy: net/http decides how to finish a body it has left by the
	// type of the request's own.
	r2 := new(http.Request)
	*r2 = *r
	r2.Body = b
	return r2
}

// MinBodyRate is the slowest a request body may come, in bytes a second,
// over the latest stretch of the read timeout that reads spent waiting: a
// client that sends a byte just before each read would time out holds the
// handler for as long as it likes otherwise. Only the time the app spends
// waiting in Read counts, as Kestrel's MinRequestBodyDataRate counts it;
// 240 is Kestrel's default too, below any real network. Bytes sent fast
// before a trickle buy it no time: they came without a wait, and the
// latest stretch of waiting holds only the trickle.
const MinBodyRate = 240

// idleBody is a request body whose each read must bring bytes within
// timeout, and which must come at MinBodyRate over the latest timeout of
// waiting (see rate).
type idleBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	ended   bool // a read failed, or the body came to its end
	rate    paceWindow
}

// A paceWindow holds a body's recent reads in a few slots, each closed
// once its reads have waited a quarter of the timeout: enough to cover
// the latest timeout of waiting, whatever came before it. A read that
// waits that long alone starts a slot of its own, so that bytes that came
// at once are not counted with it.
type paceWindow struct {
	slots [6]struct {
		waited time.Duration
		got    int64
	}
	cur int
}

// add counts a read of n bytes that waited d, and returns the bytes and
// the waiting of the latest reads that waited timeout in all; waited is
// less than timeout while the reads so far have not.
func (w *paceWindow) add(n int, d, timeout time.Duration) (got int64, waited time.Duration) {
	if d >= timeout/4 && w.slots[w.cur].got > 0 {
		w.next()
	}
	s := &w.slots[w.cur]
	s.waited += d
	s.got += int64(n)
	if s.waited >= timeout/4 {
		w.next()
	}
	for i := 0; i < len(w.slots) && waited < timeout; i++ {
		s := w.slots[(w.cur-i+len(w.slots))%len(w.slots)]
		got, waited = got+s.got, waited+s.waited
	}
	return got, waited
}

func (w *paceWindow) next() {
	w.cur = (w.cur + 1) % len(w.slots)
	w.slots[w.cur].waited, w.slots[w.cur].got = 0, 0
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.ended {
		return b.ReadCloser.Read(p)
	}
	start := time.Now()
	b.rc.SetReadDeadline(start.Add(b.timeout))
	n, err := b.ReadCloser.Read(p)
	if err == nil {
		return n, b.checkRate(n, time.Since(start))
	}
	b.ended = true
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return n, &StalledError{Timeout: b.timeout, err: err}
	}
	// The body ended (or the app had closed it) while net/http may be
	// watching the connection for the client's leaving: a deadline left
	// from the read above would end that watch, and cancel the request.
	b.rc.SetReadDeadline(time.Time{})
	return n, err
}

// checkRate counts a read of n bytes that waited d, and fails the body if
// the latest timeout of waiting brought it too slowly: the connection's
// next read fails at once, so that net/http closes it rather than read
// the rest.
func (b *idleBody) checkRate(n int, d time.Duration) error {
	got, waited := b.rate.add(n, d, b.timeout)
	if waited < b.timeout || float64(got) >= MinBodyRate*waited.Seconds() {
		return nil
	}
	b.ended = true
	b.rc.SetReadDeadline(time.Unix(1, 0))
	return &SlowBodyError{Bytes: got, Waited: waited}
}

// A SlowBodyError is a read of a request body that failed because the
// client sent it slower than [MinBodyRate].
type SlowBodyError struct {
	Bytes  int64         // the bytes that came in the latest stretch
	Waited time.Duration // how long reads waited for them
}

// Unwrap makes a SlowBodyError a timeout, as a stalled body's is.
func (e *SlowBodyError) Unwrap() error { return os.ErrDeadlineExceeded }

func (e *SlowBodyError) Error() string {
	return fmt.Sprintf("the request body came too slowly: %d bytes in %s of waiting, less than %d bytes a second",
		e.Bytes, e.Waited.Round(time.Millisecond), MinBodyRate)
}

// A StalledError is a read of a request body that failed because the
// client sent nothing for Timeout.
type StalledError struct {
	Timeout time.Duration
	err     error
}

func (e *StalledError) Error() string {
	return fmt.Sprintf("the request body stalled: no bytes came for %s", e.Timeout)
}

func (e *StalledError) Unwrap() error { return e.err }
