package devserver

import (
	"bufio"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/internal/testkit"
	"github.com/wsgo/wsgo/wsgi"
)

const tag = `<script src="/__wsgo/livereload.js" data-build="b1" data-styles="0"></script>`

// handler writes chunks with the given headers.
func handler(headers map[string]string, chunks ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		for _, c := range chunks {
			w.Write([]byte(c))
			http.NewResponseController(w).Flush()
		}
	})
}

func withLength(body string) map[string]string {
	return map[string]string{"Content-Type": "text/html; charset=utf-8", "Content-Length": strconv.Itoa(len(body))}
}

var htmlType = map[string]string{"Content-Type": "text/html"}

func TestLiveReloadInjection(t *testing.T) {
	page := "<html><body><p>hi</p></body></html>"
	tests := []struct {
		name   string
		h      http.Handler
		method string
		want   string
	}{
		{"with Content-Length", handler(withLength(page), page), "GET", "<html><body><p>hi</p>" + tag + "</body></html>"},
		{"upper case", handler(withLength("<BODY>x</BODY>"), "<BODY>x</BODY>"), "GET", "<BODY>x" + tag + "</BODY>"},
		{"last </body> only", handler(htmlType, "<body>a</body>b</body>c"), "GET", "<body>a</body>b" + tag + "</body>c"},
		{"split across chunks", handler(htmlType, "<body>x</bo", "dy></html>"), "GET", "<body>x" + tag + "</body></html>"},
		{"split before the slash", handler(htmlType, "<body>x<", "/BoDy>"), "GET", "<body>x" + tag + "</BoDy>"},
		{"no </body>", handler(htmlType, "<p>fragment</p>"), "GET", "<p>fragment</p>"},
		{"not HTML", handler(map[string]string{"Content-Type": "text/plain"}, page), "GET", page},
		{"compressed", handler(map[string]string{"Content-Type": "text/html", "Content-Encoding": "gzip"}, page), "GET", page},
		{"HEAD", handler(withLength(page)), "HEAD", ""},
		{"through the gateway", wsgi.Handler(wsgi.AppFunc(func(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
			start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/html"}})
			return wsgi.BodyString(page)
		})), "GET", "<html><body><p>hi</p>" + tag + "</body></html>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(NewLiveReload(tt.h, "b1"))
			defer srv.Close()
			req, _ := http.NewRequest(tt.method, srv.URL+"/page", nil)
			req.Header.Set("Accept-Encoding", "identity") // keep the client from decoding gzip
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tt.want {
				t.Errorf("body %q\nwant %q", body, tt.want)
			}
			if resp.ContentLength >= 0 && tt.method == "GET" && resp.ContentLength != int64(len(body)) {
				t.Errorf("Content-Length %d for %d bytes", resp.ContentLength, len(body))
			}
		})
	}
}

func TestLiveReloadReservedPrefix(t *testing.T) {
	var calls atomic.Int32
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	srv := httptest.NewServer(NewLiveReload(app, "b1"))
	defer srv.Close()
	for path, want := range map[string]int{"/__wsgo/nope": 404, "/__wsgo/livereload.js": 200, "/__wsgo/livereload-worker.js": 200} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	if calls.Load() != 0 {
		t.Errorf("the app saw %d requests under the reserved prefix", calls.Load())
	}
	http.Get(srv.URL + "/__wsgoish")
	if calls.Load() != 1 {
		t.Error("a path merely starting with /__wsgo did not reach the app")
	}
}

func TestLiveReloadEvents(t *testing.T) {
	lr := NewLiveReload(http.NotFoundHandler(), "build-7")
	srv := httptest.NewServer(lr)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/__wsgo/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for name, want := range map[string]string{
		"Content-Type":      "text/event-stream",
		"Cache-Control":     "no-cache",
		"X-Accel-Buffering": "no", // or nginx holds the stream back
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	for len(got) < 6 {
		line, ok := <-lines
		if !ok {
			break
		}
		got = append(got, line)
		if line == "data: 0" {
			break
		}
	}
	if strings.Join(got, "|") != "retry: 250|event: build|data: build-7||event: css|data: 0" {
		t.Errorf("stream began %q", got)
	}
	// Reload announces a new id on the open stream, and pages served from
	// then on carry it, so that they do not reload again.
	lr.Reload()
	var next string
	for line := range lines {
		if id, ok := strings.CutPrefix(line, "data: "); ok {
			next = id
			break
		}
	}
	if next == "" || next == "build-7" {
		t.Fatalf("after Reload the stream said %q, want a new id", next)
	}
	page := httptest.NewRecorder()
	lr.h = handler(htmlType, "<body></body>")
	lr.ServeHTTP(page, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(page.Body.String(), `data-build="`+next+`"`) {
		t.Errorf("a page served after Reload carries %q, want id %q", page.Body.String(), next)
	}
	// ReloadStyles tells the open stream to swap stylesheets: a css event,
	// and no new id.
	lr.ReloadStyles()
	var event, data string
	for line := range lines {
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			data = d
			break
		}
	}
	if event != "css" || data != "1" {
		t.Errorf("after ReloadStyles the stream said event %q data %q, want css 1", event, data)
	}
	// A page served before the change, whose stream opens after it, learns
	// of it all the same: the page carries the count it was served with,
	// and a new stream begins with the count now.
	if !strings.Contains(page.Body.String(), `data-styles="0"`) {
		t.Errorf("the page carries %q, want data-styles=\"0\"", page.Body.String())
	}
	late, err := http.Get(srv.URL + "/__wsgo/events")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(late.Body)
	got = got[:0]
	for len(got) < 6 && sc.Scan() {
		got = append(got, sc.Text())
	}
	late.Body.Close()
	if !slices.Contains(got, "event: css") || got[len(got)-1] != "data: 1" {
		t.Errorf("a stream opened after ReloadStyles began %q, want css 1", got)
	}
	// Draining ends the stream, which tells the page to reconnect.
	lr.Close()
	select {
	case _, open := <-lines:
		for open {
			_, open = <-lines
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stream outlived Close")
	}
}

// pages are HTML responses the live-reload script goes into: with a
// Content-Length (held whole) and without one (streamed).
var pages = map[string]http.Handler{
	"gateway, one chunk": wsgi.Handler(wsgi.AppFunc(func(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/html"}})
		return wsgi.BodyString("<html><body><p>hi</p></body></html>")
	})),
	"gateway, streamed": wsgi.Handler(wsgi.AppFunc(func(_ wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/html"}})
		return wsgi.Body([]byte("<html><body><p>"), []byte("hi</p></bo"), []byte("dy></html>"))
	})),
	"handler with Content-Length": handler(withLength("<body>x</body>"), "<body>x</body>"),
	"handler, flushed chunks":     handler(htmlType, "<body>x", "</body>"),
}

// TestLiveReloadHeadMatchesGet: HEAD's Content-Length is GET's, script
// included (RFC 9110 §9.3.2).
func TestLiveReloadHeadMatchesGet(t *testing.T) {
	for name, h := range pages {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(NewLiveReload(h, "b1"))
			defer srv.Close()
			lengths := map[string]string{}
			for _, method := range []string{"GET", "HEAD"} {
				req, _ := http.NewRequest(method, srv.URL+"/page", nil)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lengths[method] = resp.Header.Get("Content-Length")
				if method == "GET" && (!strings.Contains(string(body), tag) || lengths[method] != "" && lengths[method] != strconv.Itoa(len(body))) {
					t.Fatalf("GET: Content-Length %q for %q", lengths[method], body)
				}
			}
			if lengths["HEAD"] != lengths["GET"] {
				t.Errorf("HEAD Content-Length %q, GET %q", lengths["HEAD"], lengths["GET"])
			}
		})
	}
}

// TestLiveReloadLogsBytesSent: the request log counts the script it adds.
func TestLiveReloadLogsBytesSent(t *testing.T) {
	for name, h := range pages {
		t.Run(name, func(t *testing.T) {
			var log syncbuf.Buffer
			srv := httptest.NewServer(NewLiveReload(LogRequests(h, NewLogger(&log, false)), "b1"))
			defer srv.Close()
			_, body, err := testkit.Get(t, srv.URL+"/page")
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf(`"GET /page HTTP/1.1" 200 %d `, len(body))
			testkit.WaitForLog(t, &log, "GET /page ")
			if !strings.Contains(log.String(), want) || !strings.Contains(body, tag) {
				t.Errorf("log: %q\nwant %q for %q", log.String(), want, body)
			}
		})
	}
}

// TestLiveReloadLogsAbortedRequests: a request whose handler aborts still
// gets its log line, though the injector never finished the body.
func TestLiveReloadLogsAbortedRequests(t *testing.T) {
	var log syncbuf.Buffer
	abort := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<body>partial"))
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	})
	srv := httptest.NewServer(NewLiveReload(LogRequests(abort, NewLogger(&log, false)), "b1"))
	defer srv.Close()
	testkit.Get(t, srv.URL+"/abort")
	testkit.WaitForLog(t, &log, `"GET /abort HTTP/1.1" 200 7 `)
	if !strings.HasSuffix(log.String(), " (connection aborted)\n") {
		t.Errorf("log: %q", log.String())
	}
}
