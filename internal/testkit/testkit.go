// Package testkit holds what the tests of wsgo's servers share: requests
// to a test server, waiting a bounded time for its log to say a thing, and
// files written below a temporary directory.
package testkit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
)

// Get sends GET url with the header name/value pairs given, and returns the
// response and its whole body.
func Get(t testing.TB, url string, header ...string) (*http.Response, string, error) {
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

// StillServes fails the test unless srv answers /good with 200 "ok": it
// goes on serving after whatever the test did to it.
func StillServes(t testing.TB, srv *httptest.Server) {
	t.Helper()
	resp, body, err := Get(t, srv.URL+"/good")
	if err != nil || resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("the next request failed: %v %v %q", resp, err, body)
	}
}

// Dial opens a raw connection to srv, closed when the test ends, with a
// deadline so that a test that waits for a reply cannot hang.
func Dial(t testing.TB, srv *httptest.Server) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { conn.Close() })
	return conn
}

// WaitForLog waits, a bounded time, for log to say want: a handler writes
// its line after the body's cleanup has run.
func WaitForLog(t testing.TB, log *syncbuf.Buffer, want string) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if strings.Contains(log.String(), want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("log does not say %q:\n%s", want, log)
}

// Tree writes files (path → content) below a new temporary directory, and
// returns it.
func Tree(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		WriteFile(t, filepath.Join(root, p), content)
	}
	return root
}

// WriteFile writes content to the file at p, making its directories.
func WriteFile(t testing.TB, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// StalledPost sends a POST to path at addr that announces a body of 1000
// bytes, sends sent of it, and then nothing: a client whose body never
// comes. The connection gives up on its own after 30 seconds.
func StalledPost(t testing.TB, addr, path, sent string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\n%s", path, addr, sent)
	return c, bufio.NewReader(c)
}

// Next waits, a bounded time (10 s, which a watcher's batch takes at most
// on a loaded machine), for the next value on values; an error on errs
// fails the test.
func Next[T any](t testing.TB, values <-chan T, errs <-chan error) T {
	t.Helper()
	var zero T
	select {
	case v := <-values:
		return v
	case err := <-errs:
		t.Fatalf("error: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("nothing came in 10s")
	}
	return zero
}
