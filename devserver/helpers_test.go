package devserver

import (
	"bytes"
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgo/wsgo/wsgi"
)

var textPlain = wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}}

// syncBuffer is a log destination tests can read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func ok(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	start("200 OK", wsgi.Headers{{Name: "Content-Type", Value: "text/plain"}})
	return wsgi.BodyString("ok")
}

func get(t *testing.T, url string, header ...string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}

func stillServes(t *testing.T, srv *httptest.Server) {
	t.Helper()
	resp, body, err := get(t, srv.URL+"/good")
	if err != nil || resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("the next request failed: %v %v %q", resp, err, body)
	}
}

func dial(t *testing.T, srv *httptest.Server) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return conn
}

// route is a tiny dispatcher so one server can hold a misbehaving app and a
// good one, and a test can show the server still serves after a failure.
type route map[string]wsgi.AppFunc

func (m route) ServeWSGI(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	if app, found := m[env.PathInfo()]; found {
		return app(env, start)
	}
	return ok(env, start)
}

// waitForLog waits, a bounded time, for the log to say want: the handler
// writes its line after the body's cleanup has run.
func waitForLog(t *testing.T, log *syncBuffer, want string) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if strings.Contains(log.String(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("log does not say %q:\n%s", want, log)
}
