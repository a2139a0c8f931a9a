package serve

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/internal/termsafe"
)

// TestTextLineAsPrintf: the text access line, formatted in place, is the
// line fmt writes for the same fields, whatever the client sent.
func TestTextLineAsPrintf(t *testing.T) {
	for _, e := range []entry{
		{client: "127.0.0.1", method: "GET", uri: "/get/prefix?ip=", proto: "HTTP/1.1", status: 200, bytes: 119, id: "abc"},
		{client: "::1", method: "POST", uri: `/a"b\c`, proto: "HTTP/1.0", status: 500, bytes: 0, id: "x", aborted: true},
		{client: "fe80::1%\x1b[31m", method: "GET", uri: "/caf\u00e9/\x7f/\u009b", proto: "HTTP/1.1", status: 404, bytes: 1 << 40, id: "y"},
		{client: "10.0.0.1", method: "GET", uri: "/\xff\xfe", proto: "HTTP/1.1", status: 301, id: "z"},
	} {
		e.took = 1234567 * time.Microsecond
		got := string(appendText(nil, &e))
		aborted := ""
		if e.aborted {
			aborted = " aborted"
		}
		ms := got[strings.LastIndex(got[:strings.Index(got, "ms id=")], " ")+1 : strings.Index(got, "ms id=")]
		want := fmt.Sprintf("%s %q %d %d %sms id=%s%s\n", termsafe.Escape(e.client), e.method+" "+e.uri+" "+e.proto, e.status, e.bytes, ms, e.id, aborted)
		if got != want {
			t.Errorf("line\n%q, want\n%q", got, want)
		}
		if d, err := strconv.ParseFloat(ms, 64); err != nil || d < 1234.5 {
			t.Errorf("duration %sms, want at least 1234.6ms", ms)
		}
	}
}

// TestAccessLineAllocatesNothing: a text access line is formatted in the
// batch's buffer.
func TestAccessLineAllocatesNothing(t *testing.T) {
	l := newLogs("text", &syncbuf.Buffer{})
	l.batch(time.Hour)
	e := &entry{client: "127.0.0.1", method: "GET", uri: "/get/prefix?ip=", proto: "HTTP/1.1", status: 200, bytes: 119, id: "abc", start: time.Now()}
	l.access(e) // the buffer grows once
	l.flush()
	if n := testing.AllocsPerRun(100, func() { l.access(e); l.flush() }); n != 0 {
		t.Errorf("an access line: %v allocations, want 0", n)
	}
}

// TestBatchKeepsOrder: access lines wait for the batch, in text and JSON;
// any other line first writes them, and flush writes the rest.
func TestBatchKeepsOrder(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var out syncbuf.Buffer
		l := newLogs(format, &out)
		l.batch(time.Hour)
		e := &entry{client: "127.0.0.1", method: "GET", uri: "/first", proto: "HTTP/1.1", status: 200, id: "1", start: time.Now()}
		l.access(e)
		if out.String() != "" {
			t.Errorf("%s: an access line went out before the batch: %q", format, out.String())
		}
		l.std.Printf("a message")
		e.uri = "/second"
		l.access(e)
		l.flush()
		s := out.String()
		first, msg, second := strings.Index(s, "/first"), strings.Index(s, "a message"), strings.Index(s, "/second")
		if first < 0 || msg < first || second < msg {
			t.Errorf("%s: out of order:\n%s", format, s)
		}
	}
}

// TestBatchWritesWithinTheDelay: a line held for a batch goes out by
// itself, without a flush.
func TestBatchWritesWithinTheDelay(t *testing.T) {
	var out syncbuf.Buffer
	l := newLogs("text", &out)
	l.batch(time.Millisecond)
	l.access(&entry{client: "127.0.0.1", method: "GET", uri: "/late", proto: "HTTP/1.1", status: 200, id: "1", start: time.Now()})
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "/late"); {
		if time.Now().After(deadline) {
			t.Fatal("the held line was never written")
		}
		time.Sleep(time.Millisecond)
	}
}

// attrs are an entry's fields as slog attributes: the record that
// appendJSON must write as slog's JSONHandler would.
func (e *entry) attrs() []slog.Attr {
	a := []slog.Attr{
		slog.String("request_id", e.id),
		slog.String("method", e.method),
		slog.String("uri", e.uri),
		slog.String("proto", e.proto),
		slog.Int("status", e.status),
		slog.Int64("bytes", e.bytes),
		slog.Float64("duration_ms", e.ms()),
		slog.String("client", e.client),
		slog.String("peer", e.peer),
		slog.String("scheme", e.scheme),
		slog.String("host", e.host),
		slog.String("user_agent", e.agent),
	}
	if e.aborted {
		a = append(a, slog.Bool("aborted", true))
	}
	return a
}

// TestJSONLineAsSlog: the JSON access line, formatted in place, is the
// record slog's JSONHandler writes (through escapeC1) for the same fields,
// whatever the client sent.
func TestJSONLineAsSlog(t *testing.T) {
	odd := "\x00\x1f\x7f\"\\\n\r\t<>&\u0080\u009b\u00a0\u00e9\u2028\u2029\U0001F600\xff\xc2 end"
	now := time.Date(2026, 12, 6, 15, 4, 5, 120_999_999, time.FixedZone("", 3600))
	for _, e := range []entry{
		{id: "abc", method: "GET", uri: "/get/prefix?ip=", proto: "HTTP/1.1", status: 200, bytes: 119, took: 1500 * time.Microsecond, client: "127.0.0.1", peer: "127.0.0.1", scheme: "http", host: "127.0.0.1:8000", agent: "wrk"},
		{id: odd, method: odd, uri: odd, proto: odd, status: 500, took: 0, client: odd, peer: odd, scheme: "https", host: odd, agent: odd, aborted: true},
		{id: "x", method: "POST", uri: "/", proto: "HTTP/1.0", status: 404, bytes: 1 << 40, took: 3 * time.Hour},
	} {
		got := string(appendJSON(nil, now, &e))
		var want strings.Builder
		r := slog.NewRecord(now, slog.LevelInfo, "request", 0)
		r.AddAttrs(e.attrs()...)
		slog.NewJSONHandler(escapeC1{&want}, nil).Handle(context.Background(), r)
		if got != want.String() {
			t.Errorf("line\n%s\nwant\n%s", got, want.String())
		}
	}
	if n := testing.AllocsPerRun(100, func() { appendJSON(make([]byte, 0, 1024), now, &entry{id: "abc", uri: "/x"}) }); n > 1 {
		t.Errorf("a JSON line: %v allocations, want only its buffer", n)
	}
}
