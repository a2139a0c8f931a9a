package python

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
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
// fails that request at once, never a hang, and another worker takes its
// place. In production the client gets 502 Bad Gateway and the log says
// why; in development, a 500 whose failure names the worker, for the
// development page.
func TestWorkerKilledMidRequest(t *testing.T) {
	needPython(t)
	for _, dev := range []bool{false, true} {
		t.Run(fmt.Sprintf("dev=%t", dev), func(t *testing.T) {
			ev := newEvents()
			opts := Options{Threads: 2, Dev: dev, Logf: func(format string, args ...any) { fmt.Fprintf(ev, format+"\n", args...) }}
			workerKilledMidRequest(t, ev, opts)
		})
	}
}

func workerKilledMidRequest(t *testing.T, logf *events, opts Options) {
	dir := t.TempDir()
	gate := fifo(t, dir, "gate")
	a := start(t, project(t, map[string]string{"app.py": gatedApp(gate)}), "app.py", opts)
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
	want, log := 502, logf
	if opts.Dev {
		want, log = 500, ev
	}
	select {
	case resp := <-done:
		if resp == nil || resp.StatusCode != want {
			t.Fatalf("the request got %v, want %d", resp, want)
		}
		resp.Body.Close()
	case <-time.After(wait):
		t.Fatal("the request hangs")
	}
	log.waitFor(t, fmt.Sprintf("the worker (pid %d) was killed (signal: killed) while it served this request", pid))
	next := wsgiGet(a, "/pid")
	if !strings.HasPrefix(next, "/pid ") || next == first {
		t.Errorf("after the kill: %q (before: %q)", next, first)
	}
}

// TestWorkerKilledMidStream: a worker that dies after its response's first
// body bytes went out costs the client its connection, since no 502 can
// follow a 200, and the log one line that says the response was cut off,
// not a Go stack nor a 502 the client never saw.
func TestWorkerKilledMidStream(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	gate := fifo(t, dir, "gate")
	logf := newEvents()
	opts := Options{Threads: 2, Logf: func(format string, args ...any) { fmt.Fprintf(logf, format+"\n", args...) }}
	a := start(t, project(t, map[string]string{"app.py": fmt.Sprintf(`
import os

def app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    yield b'pid %%d\n' %% os.getpid()
    with open(%q) as f:
        f.readline()
    yield b'end\n'
`, gate)}), "app.py", opts)
	srv, ev := serve(t, a)
	resp, err := client.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "pid ")))
	if err != nil {
		t.Fatalf("first line %q", line)
	}
	f, err := os.OpenFile(gate, os.O_WRONLY, 0) // the app waits at the gate
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := kill9(pid); err != nil {
		t.Fatal(err)
	}
	if rest, err := io.ReadAll(br); err == nil {
		t.Errorf("the client read the cut response to its end: %q", rest)
	}
	logf.waitFor(t, fmt.Sprintf("the worker (pid %d) was killed (signal: killed) while it served this request; another is starting: GET /stream was cut off after its first body bytes", pid))
	if strings.Contains(logf.String(), "502") || strings.Contains(ev.String(), "failed") {
		t.Errorf("the log tells of a 502 or a failure the client never saw:\n%s%s", logf, ev)
	}
}

// TestMaxRequestsRecycles: with MaxRequests, a worker that has served its
// share is replaced by a new one, started beside it, and exits once the new
// one serves; not one request of concurrent clients fails meanwhile, with
// one worker as with two.
func TestMaxRequestsRecycles(t *testing.T) {
	needPython(t)
	for _, opts := range []Options{{Threads: 2, MaxRequests: 10}, {Workers: 2, Threads: 1, MaxRequests: 7, MaxRequestsJitter: 5}} {
		t.Run(fmt.Sprintf("workers=%d", opts.Workers), func(t *testing.T) {
			a := start(t, project(t, map[string]string{"app.py": gatedApp("unused")}), "app.py", opts)
			first := a.pids()
			srv, _ := serve(t, a)
			c := hammer(srv.URL+"/x", 3)
			deadline := time.Now().Add(wait)
			for slices.ContainsFunc(first, exists) || len(c.served()) <= len(first) {
				if time.Now().After(deadline) {
					t.Fatalf("the first workers %v were not all recycled; served by %v", first, c.served())
				}
				time.Sleep(10 * time.Millisecond)
			}
			if failed := c.end(); len(failed) > 0 {
				t.Errorf("%d requests failed while workers were recycled; the first: %s", len(failed), failed[0])
			}
			t.Logf("served by %v", c.served())
		})
	}
}

// pids returns the pids of the app's workers.
func (a *App) pids() []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	var pids []int
	for w := range a.all {
		pids = append(pids, w.pid)
	}
	return pids
}

// A hammerer sends requests for gatedApp's pid, from clients at once,
// until ended, and counts who served them.
type hammerer struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	pids   map[string]int
	failed []string
}

func hammer(url string, clients int) *hammerer {
	h := &hammerer{stop: make(chan struct{}), pids: map[string]int{}}
	for range clients {
		h.wg.Go(func() {
			for {
				select {
				case <-h.stop:
					return
				default:
				}
				h.fetch(url)
			}
		})
	}
	return h
}

func (h *hammerer) fetch(url string) {
	resp, err := client.Get(url)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if fields := strings.Fields(string(b)); err != nil || resp.StatusCode != 200 || len(fields) != 2 {
		h.failed = append(h.failed, fmt.Sprintf("%v %q", err, b))
	} else {
		h.pids[fields[1]]++
	}
}

// served returns how many requests each pid served.
func (h *hammerer) served() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.pids)
}

// end stops the clients and returns the requests that failed.
func (h *hammerer) end() []string {
	close(h.stop)
	h.wg.Wait()
	return h.failed
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
	if r := wsgitest.Get(a, "/"); r.Code != 503 {
		t.Errorf("after Close: %d, want 503\n%s", r.Code, r.Log)
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
	if r := wsgitest.Get(a, "/fast"); r.Code != 503 {
		t.Errorf("a request during Shutdown: %d %q, want 503", r.Code, r.Body)
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

// TestNoWorkerAnswers503: in production, when no worker runs (the one
// there died, and its replacement cannot load the app now), a request is
// answered 503 with Retry-After at once, which a proxy takes to another
// instance, and not 500, which it would not.
func TestNoWorkerAnswers503(t *testing.T) {
	needPython(t)
	app := "import os\n\ndef app(environ, start_response):\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [str(os.getpid()).encode()]\n"
	dir := project(t, map[string]string{"app.py": app})
	ev := newEvents()
	a := start(t, dir, "app.py", Options{Threads: 1, Logf: func(format string, args ...any) { fmt.Fprintf(ev, format+"\n", args...) }})
	pid, err := strconv.Atoi(wsgiGet(a, "/"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte("raise RuntimeError('the database is down')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := kill9(pid); err != nil {
		t.Fatal(err)
	}
	srv, _ := serve(t, a)
	for deadline := time.Now().Add(wait); ; time.Sleep(20 * time.Millisecond) {
		resp, err := client.Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			if resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			break
		}
		// 200 until the worker's death is seen, 502 for a request that
		// met its channel as it died.
		ok := resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusBadGateway
		if !ok || time.Now().After(deadline) {
			t.Fatalf("with no worker running: %d, want 503", resp.StatusCode)
		}
	}
	ev.waitFor(t, "answered 503 Service Unavailable")
}

// TestErrorsFromAnotherThread: a thread the app started writes to
// wsgi.errors while the request's thread streams its body, and goes on
// after the response: the frames never interleave (the worker lives, both
// responses are whole), and what it writes once the request is over goes
// to the worker's stderr, not into another request's log.
func TestErrorsFromAnotherThread(t *testing.T) {
	needPython(t)
	var stderr syncbuf.Buffer
	a := start(t, project(t, map[string]string{"app.py": `
import os, threading, time

def app(environ, start_response):
    if environ['PATH_INFO'] == '/chatty':
        errors = environ['wsgi.errors']
        def chatter():
            for i in range(3000):
                errors.write('line %d %s\n' % (i, 'q' * 200))
            time.sleep(0.2)
            errors.write('after the request\n')
        threading.Thread(target=chatter, daemon=True).start()
        start_response('200 OK', [('Content-Type', 'application/octet-stream')])
        return (b'y' * (1 << 20) for _ in range(20))
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'pid %d' % os.getpid()]
`}), "app.py", Options{Threads: 1, Stderr: &stderr})
	before := wsgiGet(a, "/pid")
	srv, _ := serve(t, a)
	resp, err := client.Get(srv.URL + "/chatty")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != 20<<20 {
		t.Fatalf("the streamed body: %d bytes, %v; want 20 MiB", n, err)
	}
	if after := wsgiGet(a, "/pid"); after != before {
		t.Fatalf("the worker was replaced (%q, then %q): the channel broke", before, after)
	}
	deadline := time.Now().Add(wait)
	for !strings.Contains(stderr.String(), "after the request") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "after the request") {
		t.Errorf("the line written after the request is not on the worker's stderr:\n%.2000s", stderr.String())
	}
}
