package python

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

// gatedApp's /slow waits for a line on the named pipe gate before it
// answers; everything else answers at once.
func gatedApp(gate string) string {
	return fmt.Sprintf(`
import os

def app(environ, start_response):
    if environ['PATH_INFO'] == '/slow':
        with open(%q) as f:
            f.readline()
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('%%s %%d' %% (environ['PATH_INFO'], os.getpid())).encode()]
`, gate)
}

// TestSlowRequestBlocksNoOther: while one request waits in the app, others
// are answered, with threads in one worker and with workers of one thread.
func TestSlowRequestBlocksNoOther(t *testing.T) {
	needPython(t)
	for _, opts := range []Options{{}, {Workers: 2, Threads: 1}} {
		t.Run(fmt.Sprintf("workers=%d,threads=%d", opts.Workers, opts.Threads), func(t *testing.T) {
			dir := t.TempDir()
			gate := fifo(t, dir, "gate")
			a := start(t, project(t, map[string]string{"app.py": gatedApp(gate)}), "app.py", opts)
			srv, _ := serve(t, a)
			slow := getLater(srv.URL + "/slow")
			for range 5 {
				if r := wsgiGet(a, "/fast"); !strings.HasPrefix(r, "/fast ") {
					t.Fatalf("/fast: %q", r)
				}
			}
			select {
			case got := <-slow:
				t.Fatalf("/slow answered before its gate opened: %q", got)
			default:
			}
			release(t, gate)
			select {
			case got := <-slow:
				if !strings.HasPrefix(got, "/slow ") {
					t.Errorf("/slow: %q", got)
				}
			case <-time.After(wait):
				t.Fatal("/slow never answered")
			}
		})
	}
}

// zeros is a request body of n zero bytes, made as it is read.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), z.n)]
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// TestLargeUpload: a large body streams through to the app as it reads
// it: what Go allocates does not grow with the body's size.
func TestLargeUpload(t *testing.T) {
	needPython(t)
	a := start(t, project(t, map[string]string{"app.py": `
def app(environ, start_response):
    stream, total = environ['wsgi.input'], 0
    while True:
        block = stream.read(1 << 20)
        if not block:
            break
        total += len(block)
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [str(total).encode()]
`}), "app.py", Options{Threads: 1})
	wsgiGet(a, "/")      // buffers and pools in place
	const size = 1 << 30 // 1 GB
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := httptest.NewRequest("POST", "/", &zeros{size})
	r.ContentLength = size
	res := wsgitest.Do(a, r)
	runtime.ReadMemStats(&after)
	if res.Body != strconv.Itoa(size) {
		t.Fatalf("%d %q\n%s", res.Code, res.Body, res.Log)
	}
	grew := after.TotalAlloc - before.TotalAlloc
	t.Logf("Go allocated %d KB for a %d MB body", grew>>10, size>>20)
	if grew > 32<<20 {
		t.Errorf("Go allocated %d MB for a %d MB body", grew>>20, size>>20)
	}
}

// TestWorkerKilledMidRequest: a worker that dies while it serves a request
// fails that request with a 500 that says so, never a hang, and another
// worker takes its place.
func TestWorkerKilledMidRequest(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	gate := fifo(t, dir, "gate")
	a := start(t, project(t, map[string]string{"app.py": gatedApp(gate)}), "app.py", Options{Threads: 2})
	first := wsgiGet(a, "/pid")
	pid, err := strconv.Atoi(strings.Fields(first)[1])
	if err != nil {
		t.Fatalf("/pid: %q", first)
	}
	srv, ev := serve(t, a)
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := client.Get(srv.URL + "/slow")
		if err != nil {
			t.Error(err)
		}
		done <- resp
	}()
	// The request is in the app once the gate's reader has opened it: an
	// open for writing without a reader would wait, so it is the event.
	f, err := os.OpenFile(gate, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := kill9(pid); err != nil {
		t.Fatal(err)
	}
	select {
	case resp := <-done:
		if resp == nil || resp.StatusCode != 500 {
			t.Fatalf("the request got %v", resp)
		}
		resp.Body.Close()
	case <-time.After(wait):
		t.Fatal("the request hangs")
	}
	ev.waitFor(t, fmt.Sprintf("the worker (pid %d) was killed (signal: killed) while it served this request", pid))
	next := wsgiGet(a, "/pid")
	if !strings.HasPrefix(next, "/pid ") || next == first {
		t.Errorf("after the kill: %q (before: %q)", next, first)
	}
}

// TestCloseStopsEverything: Close leaves no worker running, fails new
// requests with ErrClosed, and is safe to call twice.
func TestCloseStopsEverything(t *testing.T) {
	needPython(t)
	a := start(t, project(t, map[string]string{"app.py": gatedApp("unused")}), "app.py", Options{Workers: 2, Threads: 2})
	var pids []int
	a.mu.Lock()
	for w := range a.all {
		pids = append(pids, w.pid)
	}
	a.mu.Unlock()
	if len(pids) != 2 {
		t.Fatalf("%d workers", len(pids))
	}
	a.Close()
	for _, pid := range pids {
		if exists(pid) {
			t.Errorf("worker %d is still there after Close", pid)
		}
	}
	if r := wsgitest.Get(a, "/"); r.Code != 500 || !strings.Contains(r.Log, ErrClosed.Error()) {
		t.Errorf("after Close: %d\n%s", r.Code, r.Log)
	}
	a.Close()
}

// TestShutdownWaitsForRequests: Shutdown lets a request in flight finish,
// and refuses new ones meanwhile.
func TestShutdownWaitsForRequests(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	gate := fifo(t, dir, "gate")
	a := start(t, project(t, map[string]string{"app.py": gatedApp(gate)}), "app.py", Options{Threads: 2})
	srv, _ := serve(t, a)
	slow := getLater(srv.URL + "/slow")
	f, err := os.OpenFile(gate, os.O_WRONLY, 0) // the request is in the app
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		stopped <- a.Shutdown(ctx)
	}()
	// New requests are refused once Shutdown has begun.
	deadline := time.Now().Add(wait)
	for !a.isClosing() && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if r := wsgitest.Get(a, "/fast"); r.Code != 500 {
		t.Errorf("a request during Shutdown: %d %q", r.Code, r.Body)
	}
	f.WriteString("go\n")
	f.Close()
	if got := <-slow; !strings.HasPrefix(got, "/slow ") {
		t.Errorf("the request in flight got %q", got)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Shutdown never returned")
	}
}

// getLater sends GET url in the background; the channel gets the body, or
// the error.
func getLater(url string) <-chan string {
	got := make(chan string, 1)
	go func() {
		resp, err := client.Get(url)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	return got
}
