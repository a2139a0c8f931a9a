package devserver

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRequestLogShape(t *testing.T) {
	var buf syncBuffer
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
		var buf syncBuffer
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
		var plain syncBuffer
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
	var buf syncBuffer
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
