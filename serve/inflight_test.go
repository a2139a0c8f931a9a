package serve

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestInFlightList: every request in flight is listed, the oldest first,
// and none once they have ended.
func TestInFlightList(t *testing.T) {
	release := make(chan struct{})
	var started sync.WaitGroup
	f := TrackInFlight(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		started.Done()
		<-release
	}))
	n := 20
	var done sync.WaitGroup
	for i := range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			f.ServeHTTP(nil, httptest.NewRequest("GET", fmt.Sprintf("/r%d", i), nil))
		}()
		if i == 0 {
			started.Wait() // the oldest, for certain
		}
	}
	started.Wait()
	list := f.List()
	if len(list) != n {
		t.Fatalf("%d requests listed, want %d", len(list), n)
	}
	if !strings.HasPrefix(list[0], "GET /r0 (running ") {
		t.Errorf("first listed: %q, want the oldest, GET /r0", list[0])
	}
	close(release)
	done.Wait()
	if list := f.List(); len(list) != 0 {
		t.Errorf("after the requests ended: %q", list)
	}
}

// BenchmarkInFlight is the count's own cost a request, with requests on
// every core at once, as under load.
func BenchmarkInFlight(b *testing.B) {
	f := TrackInFlight(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/", nil)
		for pb.Next() {
			f.ServeHTTP(nil, r)
		}
	})
}
