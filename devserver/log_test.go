package devserver

import (
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/internal/testkit"
	"github.com/wsgo/wsgo/serve"
	"github.com/wsgo/wsgo/wsgi"
)

func TestRequestLogShape(t *testing.T) {
	var buf syncbuf.Buffer
	l := NewLogger(&buf, false)
	l.now = func() time.Time { return time.Date(2026, 11, 25, 7, 51, 53, 0, time.UTC) }
	r := httptest.NewRequest("GET", "/get/prefix?ip=", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	l.Request(r, 200, 736, 1500*time.Microsecond, "")
	want := `127.0.0.1 - - [25/Nov/2026 07:51:53] "GET /get/prefix?ip= HTTP/1.1" 200 736 1.5ms` + "\n"
	if buf.String() != want {
		t.Errorf("got  %q\nwant %q", buf.String(), want)
	}
}

// TestRequestLogTimeStamps: lines in one second share a formatted stamp,
// and the next second gets its own, whichever clock reading comes first.
func TestRequestLogTimeStamps(t *testing.T) {
	var buf syncbuf.Buffer
	l := NewLogger(&buf, false)
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	base := time.Date(2026, 11, 25, 7, 51, 53, 0, time.UTC)
	for _, d := range []time.Duration{900 * time.Millisecond, 100 * time.Millisecond, 1100 * time.Millisecond, 62 * time.Second, 0} {
		l.now = func() time.Time { return base.Add(d) }
		l.Request(r, 200, 0, time.Millisecond, "")
	}
	var stamps []string
	for line := range strings.Lines(buf.String()) {
		stamps = append(stamps, line[strings.IndexByte(line, '[')+1:strings.IndexByte(line, ']')])
	}
	want := "25/Nov/2026 07:51:53,25/Nov/2026 07:51:53,25/Nov/2026 07:51:54,25/Nov/2026 07:52:55,25/Nov/2026 07:51:53"
	if got := strings.Join(stamps, ","); got != want {
		t.Errorf("stamps %s\nwant   %s", got, want)
	}
}

func TestRequestLogColours(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	tests := []struct {
		status int
		sgr    string // the SGR sequence around the request, "" for none
	}{
		{101, "\x1b[1m"}, {200, ""}, {204, ""}, {304, "\x1b[36m"}, {302, "\x1b[32m"},
		{404, "\x1b[33m"}, {400, "\x1b[1;31m"}, {500, "\x1b[1;35m"},
	}
	for _, tt := range tests {
		var buf syncbuf.Buffer
		NewLogger(&buf, true).Request(r, tt.status, 0, 0, "")
		line := buf.String()
		if tt.sgr == "" {
			if strings.Contains(line, "\x1b[") {
				t.Errorf("%d: coloured: %q", tt.status, line)
			}
			continue
		}
		if !strings.Contains(line, tt.sgr+"GET / HTTP/1.1\x1b[") {
			t.Errorf("%d: want %q around the request: %q", tt.status, tt.sgr, line)
		}
		var plain syncbuf.Buffer
		NewLogger(&plain, false).Request(r, tt.status, 0, 0, "")
		if strings.Contains(plain.String(), "\x1b[") {
			t.Errorf("%d: colour with colour off: %q", tt.status, plain.String())
		}
	}
}

func TestColorFor(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	if ColorFor(devnull) {
		t.Error("colour for /dev/null, which is no terminal")
	}
	tty, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal to test with: %v", err)
	}
	defer tty.Close()
	if !ColorFor(tty) {
		t.Error("no colour for a terminal")
	}
	t.Setenv("NO_COLOR", "1")
	if ColorFor(tty) {
		t.Error("colour with NO_COLOR set")
	}
}

func TestLogRequestsRecordsStatusSizeAndAborts(t *testing.T) {
	var buf syncbuf.Buffer
	l := NewLogger(&buf, false)
	h := LogRequests(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/abort" {
			w.Write([]byte("partial"))
			panic(http.ErrAbortHandler)
		}
		w.WriteHeader(404)
		w.Write([]byte("nope"))
	}), l)
	srv := httptest.NewServer(h)
	defer srv.Close()
	http.Get(srv.URL + "/missing")
	http.Get(srv.URL + "/abort")
	log := buf.String()
	if !regexp.MustCompile(`"GET /missing HTTP/1.1" 404 4 \S+\n`).MatchString(log) {
		t.Errorf("no 404 line: %q", log)
	}
	if !regexp.MustCompile(`"GET /abort HTTP/1.1" 200 7 \S+ \(connection aborted\)\n`).MatchString(log) {
		t.Errorf("no aborted line: %q", log)
	}
}

// TestRequestLogEscapesControls sends request lines with control characters
// over TCP: what reaches the log holds none of them, only their escapes.
func TestRequestLogEscapesControls(t *testing.T) {
	var buf syncbuf.Buffer
	l := NewLogger(&buf, false)
	srv := httptest.NewUnstartedServer(nil)
	app := route{"/boom\x9b": func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] { panic("boom") }}
	srv.Config = serve.NewServer(LogRequests(NewGateway(app, "test", l), l), l).Server
	srv.Start()
	defer srv.Close()
	for _, path := range []string{"/c1\xc2\x9b[31m", "/byte\x9b[31m", "/esc\x1b[31m", "/del\x7f", "/pct%1b[31m", "/boom\x9b"} {
		rawResponse(t, srv, "GET "+path+" HTTP/1.1\r\nHost: h\r\n\r\n")
	}
	rawResponse(t, srv, "GET /last HTTP/1.1\r\nHost: h\r\n\r\n")
	testkit.WaitForLog(t, &buf, "GET /last ")
	log := buf.String()
	for _, want := range []string{`"GET /c1\x9b[31m HTTP/1.1" 400`, `"GET /byte\x9b[31m HTTP/1.1" 200`, `"GET /pct%1b[31m HTTP/1.1" 400`, `app "test" failed on GET /boom\x9b: panic: boom`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s:\n%s", want, log)
		}
	}
	if !utf8.ValidString(log) {
		t.Errorf("log is not UTF-8: %q", log)
	}
	for _, r := range log {
		if r != '\n' && unicode.IsControl(r) {
			t.Errorf("log holds %q: %q", r, log)
		}
	}
}

// TestBatchedRequestLog: batched request lines reach the output by
// themselves, in one write, and before any message that follows them.
func TestBatchedRequestLog(t *testing.T) {
	out := &writeLog{writes: make(chan string, 16)}
	l := NewLogger(out, false)
	l.Batch(time.Hour) // only a flush or a message writes them here
	r := httptest.NewRequest("GET", "/a", nil)
	l.Request(r, 200, 1, time.Millisecond, "")
	l.Request(r, 404, 2, time.Millisecond, "")
	select {
	case w := <-out.writes:
		t.Fatalf("a batched line was written at once: %q", w)
	default:
	}
	l.Printf("a message")
	first := <-out.writes
	if strings.Count(first, "GET /a") != 2 {
		t.Errorf("the held lines were not written together before the message: %q", first)
	}
	if msg := <-out.writes; msg != "a message\n" {
		t.Errorf("then %q", msg)
	}

	l.Batch(10 * time.Millisecond)
	l.Request(r, 200, 3, time.Millisecond, "")
	select {
	case w := <-out.writes: // the delay ran out: no flush was needed
		if !strings.Contains(w, `"GET /a HTTP/1.1" 200 3`) {
			t.Errorf("batch wrote %q", w)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a batched line was never written")
	}
	l.Request(r, 200, 4, time.Millisecond, "")
	l.Flush()
	if w := <-out.writes; !strings.Contains(w, "200 4") {
		t.Errorf("Flush wrote %q", w)
	}
}

// writeLog reports each write on a channel.
type writeLog struct{ writes chan string }

func (b *writeLog) Write(p []byte) (int, error) {
	b.writes <- string(p)
	return len(p), nil
}

func TestRequestLogDurations(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	for took, want := range map[time.Duration]string{
		850 * time.Microsecond:  " 850µs\n",
		1500 * time.Microsecond: " 1.5ms\n",
		999 * time.Millisecond:  " 999.0ms\n",
		2250 * time.Millisecond: " 2.25s\n",
	} {
		var buf syncbuf.Buffer
		NewLogger(&buf, false).Request(r, 200, 0, took, "")
		if !strings.HasSuffix(buf.String(), want) {
			t.Errorf("%v: %q, want it to end in %q", took, buf.String(), want)
		}
	}
}

// TestRequestLineAllocatesNothing: under load the log writes a line per
// request, and a batched line is formatted where it waits.
func TestRequestLineAllocatesNothing(t *testing.T) {
	l := NewLogger(io.Discard, false)
	l.Batch(time.Hour)
	r := httptest.NewRequest("GET", "/api/hello/bench", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	allocs := testing.AllocsPerRun(100, func() {
		l.Request(r, 200, 18, 120*time.Microsecond, "")
		l.Flush()
	})
	if allocs > 0 {
		t.Errorf("a request line costs %.1f allocations, want none", allocs)
	}
}

// BenchmarkRequestLine is one line of the request log, batched.
func BenchmarkRequestLine(b *testing.B) {
	l := NewLogger(io.Discard, false)
	l.Batch(time.Hour)
	r := httptest.NewRequest("GET", "/api/hello/bench", nil)
	r.RemoteAddr = "127.0.0.1:4000"
	for b.Loop() {
		l.Request(r, 200, 18, 120*time.Microsecond, "")
	}
}
