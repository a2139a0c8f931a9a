package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/internal/testkit"
	"github.com/wsgo/wsgo/wsgi"
)

// whoami answers with the request id and the client's address it sees,
// and fails on /fail.
var whoami = wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	if env.PathInfo() == "/fail" {
		panic("broken")
	}
	start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return wsgi.BodyString(env.Get(RequestIDKey), " ", env.RemoteAddr())
})

// TestProductionJSONLog: with -log-format json, every line is a JSON
// object; a request's line carries the id it came with in X-Request-Id
// (the same id the app and the response see), the client a trusted proxy
// named and the proxy's own address; a failure's line carries the id too.
func TestProductionJSONLog(t *testing.T) {
	var out syncbuf.Buffer
	o := options{app: "whoami", logFormat: "json", proxy: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	srv := httptest.NewServer(o.gateway(whoami, newLogs(o.logFormat, &out)))
	defer srv.Close()

	get := func(path string, header ...string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(res.Body)
		res.Header.Set("Body", body.String())
		return res
	}
	res := get("/items?x=1", "X-Request-Id", "req-42", "X-Forwarded-For", "203.0.113.7")
	if got := res.Header.Get("Body"); got != "req-42 203.0.113.7" {
		t.Errorf("the app saw %q, want the request id and the forwarded client", got)
	}
	if got := res.Header.Get("X-Request-Id"); got != "req-42" {
		t.Errorf("X-Request-Id in the response: %q", got)
	}
	// An id that is not fit for a log is replaced by a new one.
	res = get("/", "X-Request-Id", "a b\"<script>")
	newID := res.Header.Get("X-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(newID) {
		t.Errorf("a bad X-Request-Id gave %q, want a new id", newID)
	}
	get("/fail", "X-Request-Id", "req-fail")
	srv.Close()

	var lines []map[string]any
	for line := range strings.Lines(out.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %v\n%s", err, line)
		}
		lines = append(lines, m)
	}
	find := func(msg, id string) map[string]any {
		for _, m := range lines {
			if m["msg"] == msg && m["request_id"] == id {
				return m
			}
		}
		t.Fatalf("no %q line with request_id %q in:\n%s", msg, id, out.String())
		return nil
	}
	m := find("request", "req-42")
	for k, v := range map[string]any{"method": "GET", "uri": "/items?x=1", "status": 200.0, "bytes": 18.0, "client": "203.0.113.7", "peer": "127.0.0.1", "level": "INFO"} {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	for _, k := range []string{"time", "duration_ms", "host", "scheme"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s in %v", k, m)
		}
	}
	find("request", newID)
	if m := find("request", "req-fail"); m["status"] != 500.0 {
		t.Errorf("the failed request logged status %v", m["status"])
	}
	if m := find("app failed", "req-fail"); m["level"] != "ERROR" || m["error"] != "panic: broken" || m["stack"] == nil {
		t.Errorf("the failure's line: %v", m)
	}
}

// TestProductionTextLog: the text access log names the client, the
// quoted request line, the status and the id.
func TestProductionTextLog(t *testing.T) {
	var out syncbuf.Buffer
	o := options{app: "whoami", logFormat: "text"}
	srv := httptest.NewServer(o.gateway(whoami, newLogs(o.logFormat, &out)))
	req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
	req.Header.Set("X-Request-Id", "req-7")
	req.Header.Set("X-Forwarded-For", "203.0.113.7") // no -proxy: not believed
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	srv.Close()
	if string(body) != "req-7 127.0.0.1" {
		t.Errorf("the app saw %q, want the request id and the peer", body)
	}
	if !regexp.MustCompile(`127\.0\.0\.1 "GET /x HTTP/1.1" 200 \d+ [\d.]+ms id=req-7\n`).MatchString(out.String()) {
		t.Errorf("text access log:\n%s", out.String())
	}
}

// TestProductionTextLogFailure: an app's failure in the text log is at
// ERROR and carries the request's id, as its JSON record does.
func TestProductionTextLogFailure(t *testing.T) {
	out := failedRequestLog(t, "text")
	if !regexp.MustCompile(`ERROR app "whoami" failed on GET "/fail" \(request id req-9\): .*broken`).MatchString(out) {
		t.Errorf("text log of a failure:\n%s", out)
	}
}

// failedRequestLog is the log, in format, of a production program whose
// app failed on one request, GET /fail with X-Request-Id req-9.
func failedRequestLog(t *testing.T, format string) string {
	t.Helper()
	var out syncbuf.Buffer
	o := options{app: "whoami", logFormat: format}
	srv := httptest.NewServer(o.gateway(whoami, newLogs(o.logFormat, &out)))
	req, _ := http.NewRequest("GET", srv.URL+"/fail", nil)
	req.Header.Set("X-Request-Id", "req-9")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	srv.Close()
	return out.String()
}

// TestJSONLogEscapesC1: a C1 control character (U+009B, which a terminal
// takes for the start of a command) in the path or the User-Agent is
// written escaped in a JSON log line, as in the text log, and a JSON reader
// gets it back as it came.
func TestJSONLogEscapesC1(t *testing.T) {
	var out syncbuf.Buffer
	o := options{app: "whoami", logFormat: "json"}
	srv := httptest.NewServer(o.gateway(whoami, newLogs(o.logFormat, &out)))
	defer srv.Close()
	conn := testkit.Dial(t, srv)
	io.WriteString(conn, "GET /a\xc2\x9b[2J HTTP/1.1\r\nHost: h\r\nUser-Agent: b\xc2\x9b[31m\r\nConnection: close\r\n\r\n")
	io.Copy(io.Discard, conn)
	testkit.WaitForLog(t, &out, `"msg":"request"`)
	line := out.String()
	if strings.Contains(line, "\u009b") {
		t.Errorf("raw control characters in the log: %q", line)
	}
	if !strings.Contains(line, `"uri":"/a\u009b[2J"`) || !strings.Contains(line, `"user_agent":"b\u009b[31m"`) {
		t.Errorf("not escaped as \\u009b: %s", line)
	}
	var rec struct{ URI, UA string }
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, line)
	}
	rec.URI, _ = m["uri"].(string)
	rec.UA, _ = m["user_agent"].(string)
	if rec.URI != "/a\u009b[2J" || rec.UA != "b\u009b[31m" {
		t.Errorf("read back %q and %q", rec.URI, rec.UA)
	}
}

// TestEscapeC1LeavesOtherTextAlone: only C1 characters and DEL change;
// other characters, whose UTF-8 holds the same continuation bytes, do not.
func TestEscapeC1LeavesOtherTextAlone(t *testing.T) {
	var b strings.Builder
	escapeC1{&b}.Write([]byte("{\"a\":\"é € \u0085 \u009f \x7f \u00a0\"}\n"))
	if want := `{"a":"é € \u0085 \u009f \u007f ` + "\u00a0" + "\"}\n"; b.String() != want {
		t.Errorf("got  %q\nwant %q", b.String(), want)
	}
}

// TestAbortedLogLine: a request cut off is logged "aborted", with status 0
// when no response had begun (a client gone while the app waited, a body
// that stalled) and with the status sent when one had.
func TestAbortedLogLine(t *testing.T) {
	cut := wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		if env.PathInfo() == "/after-headers" {
			start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
		}
		return func(yield func([]byte) bool) {
			if env.PathInfo() == "/after-headers" {
				yield([]byte("part"))
				yield([]byte(strings.Repeat("x", 64<<10))) // past the gateway's hold
			}
			panic(http.ErrAbortHandler)
		}
	})
	var out syncbuf.Buffer
	o := options{app: "cut", logFormat: "text"}
	srv := httptest.NewServer(o.gateway(cut, newLogs(o.logFormat, &out)))
	for _, path := range []string{"/before-headers", "/after-headers"} {
		if res, err := http.Get(srv.URL + path); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	srv.Close()
	for _, want := range []string{`"GET /before-headers HTTP/1.1" 0 0 `, `"GET /after-headers HTTP/1.1" 200 `} {
		if !regexp.MustCompile(regexp.QuoteMeta(want) + `.* aborted\n`).MatchString(out.String()) {
			t.Errorf("no line %q… aborted in:\n%s", want, out.String())
		}
	}
}

// TestJSONFailureIDWithoutProxy: with no trusted proxy the request is not
// copied with its log entry, and a failure's line still carries its id.
func TestJSONFailureIDWithoutProxy(t *testing.T) {
	out := failedRequestLog(t, "json")
	var failed bool
	for line := range strings.Lines(out) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "app failed" {
			failed = true
			if m["request_id"] != "req-9" {
				t.Errorf("the failure's line has request_id %v, want req-9", m["request_id"])
			}
		}
	}
	if !failed {
		t.Errorf("no failure line in:\n%s", out)
	}
}
