package serve

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/wsgo/wsgo/internal/termsafe"
)

// InFlight is a handler that keeps track of the requests it is serving, so
// that a server which must cut them short can say which.
type InFlight struct {
	h    http.Handler
	mu   sync.Mutex
	reqs map[*http.Request]time.Time
}

// TrackInFlight returns h, keeping track of the requests in flight.
func TrackInFlight(h http.Handler) *InFlight {
	return &InFlight{h: h, reqs: map[*http.Request]time.Time{}}
}

func (f *InFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.reqs[r] = time.Now()
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.reqs, r)
		f.mu.Unlock()
	}()
	f.h.ServeHTTP(w, r)
}

// List describes the requests in flight, oldest first, for a person:
// `GET /slow (running 5.2s)`.
func (f *InFlight) List() []string {
	type req struct {
		desc  string
		began time.Time
	}
	f.mu.Lock()
	all := make([]req, 0, len(f.reqs))
	for r, began := range f.reqs {
		all = append(all, req{r.Method + " " + termsafe.Escape(r.RequestURI), began})
	}
	f.mu.Unlock()
	slices.SortFunc(all, func(a, b req) int { return a.began.Compare(b.began) })
	out := make([]string, len(all))
	for i, r := range all {
		out[i] = fmt.Sprintf("%s (running %s)", r.desc, time.Since(r.began).Round(100*time.Millisecond))
	}
	return out
}
