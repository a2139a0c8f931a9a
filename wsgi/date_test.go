package wsgi

import (
	"iter"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
	"unsafe"
)

func TestDateHeaderIsFormattedOnceASecond(t *testing.T) {
	var c dateCache
	t0 := time.Date(2026, 12, 6, 20, 30, 15, 100, time.FixedZone("CET", 3600))
	first := c.header(t0)
	if want := "Sun, 06 Dec 2026 19:30:15 GMT"; first != want {
		t.Fatalf("Date %q, want %q", first, want)
	}
	if same := c.header(t0.Add(800 * time.Millisecond)); unsafe.StringData(same) != unsafe.StringData(first) {
		t.Error("a second request in the same second formatted the Date again")
	}
	if next := c.header(t0.Add(time.Second)); next != "Sun, 06 Dec 2026 19:30:16 GMT" {
		t.Errorf("a second later: Date %q", next)
	}
}

// TestDateIsEachResponsesOwn: a handler that edits its response's header
// values in place, after the gateway or before they go out, changes
// nothing of another response's, in the same second or at the same time.
func TestDateIsEachResponsesOwn(t *testing.T) {
	g := &Gateway{App: route{}, Log: testLog(t.Output())}
	edited := make(chan struct{})
	go func() {
		defer close(edited)
		for range 200 {
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			rec.Header()["Date"][0] = "edited"
		}
	}()
	for i := range 200 {
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if _, err := http.ParseTime(rec.Header().Get("Date")); err != nil {
			t.Fatalf("response %d: Date %q", i, rec.Header().Get("Date"))
		}
	}
	<-edited
}

func TestGatewaySendsDate(t *testing.T) {
	own := func(_ Environ, start StartResponse) iter.Seq[[]byte] {
		start("200 OK", Headers{h("Content-Type", "text/plain"), h("date", "Thu, 01 Jan 1970 00:00:00 GMT")})
		return BodyString("old")
	}
	g := &Gateway{App: route{"/own": own}, Log: testLog(t.Output())}
	before := time.Now().Truncate(time.Second)
	rec := httptest.NewRecorder() // which, unlike net/http's server, adds no Date of its own
	g.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	sent, err := http.ParseTime(rec.Header().Get("Date"))
	if err != nil {
		t.Fatalf("Date %q: %v", rec.Header().Get("Date"), err)
	}
	if sent.Before(before) || sent.After(time.Now()) {
		t.Errorf("Date %v, not the time of the request (%v)", sent, before)
	}

	rec = httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest("GET", "/own", nil))
	if got := rec.Header().Values("Date"); len(got) != 1 || got[0] != "Thu, 01 Jan 1970 00:00:00 GMT" {
		t.Errorf("the app's Date became %q", got)
	}
}
