package serve

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsgo/wsgo/internal/termsafe"
)

// InFlight is a handler that keeps track of the requests it is serving, so
// that a server which must cut them short can say which.
//
// Every request passes through it, and most servers have no more than a
// few hundred at once: each takes a slot of a fixed table, claimed and
// freed with atomic operations, where a lock and a map that all requests
// share would cost two lock round trips and two map writes a request, and
// have the cores contend for them. Requests beyond the table's size are
// kept in a map under a lock.
type InFlight struct {
	h     http.Handler
	epoch time.Time // slots hold their requests' start as time since epoch
	slots []flightSlot

	mu   sync.Mutex
	more map[*http.Request]time.Time // the requests that found no slot free
}

// inFlightSlots is the size of an InFlight's table.
const inFlightSlots = 256

// A flightSlot holds a request in flight, or nothing. It fills a cache
// line, so that requests on different cores do not write to the same one.
type flightSlot struct {
	r     atomic.Pointer[http.Request]
	began atomic.Int64 // since the epoch, plus one; 0 while it is being set
	_     [48]byte
}

// TrackInFlight returns h, keeping track of the requests in flight.
func TrackInFlight(h http.Handler) *InFlight {
	return &InFlight{h: h, epoch: time.Now(), slots: make([]flightSlot, inFlightSlots), more: map[*http.Request]time.Time{}}
}

func (f *InFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := f.claim(r)
	if s == nil {
		f.mu.Lock()
		f.more[r] = time.Now()
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			delete(f.more, r)
			f.mu.Unlock()
		}()
		f.h.ServeHTTP(w, r)
		return
	}
	s.began.Store(int64(time.Since(f.epoch)) + 1)
	defer func() {
		s.began.Store(0)
		s.r.Store(nil)
	}()
	f.h.ServeHTTP(w, r)
}

// claim puts r in a free slot, looking from a random one, and returns it;
// nil if every slot is taken.
func (f *InFlight) claim(r *http.Request) *flightSlot {
	n := len(f.slots)
	start := rand.N(n)
	for i := range n {
		s := &f.slots[(start+i)%n]
		if s.r.Load() == nil && s.r.CompareAndSwap(nil, r) {
			return s
		}
	}
	return nil
}

// List describes the requests in flight, oldest first, for a person:
// `GET /slow (running 5.2s)`.
func (f *InFlight) List() []string {
	type req struct {
		desc  string
		began time.Time
	}
	var all []req
	add := func(r *http.Request, began time.Time) {
		all = append(all, req{r.Method + " " + termsafe.Escape(r.RequestURI), began})
	}
	for i := range f.slots {
		s := &f.slots[i]
		r := s.r.Load()
		if r == nil {
			continue
		}
		began := time.Now() // the request is just beginning, or ending
		if since := s.began.Load(); since != 0 {
			began = f.epoch.Add(time.Duration(since - 1))
		}
		add(r, began)
	}
	f.mu.Lock()
	for r, began := range f.more {
		add(r, began)
	}
	f.mu.Unlock()
	slices.SortFunc(all, func(a, b req) int { return a.began.Compare(b.began) })
	out := make([]string, len(all))
	for i, r := range all {
		out[i] = fmt.Sprintf("%s (running %s)", r.desc, time.Since(r.began).Round(100*time.Millisecond))
	}
	return out
}
