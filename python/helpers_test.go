package python

import (
	"context"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsgo/wsgo/wsgi"
	"github.com/wsgo/wsgo/wsgi/wsgitest"
)

// wait bounds every wait of these tests: long, since the machine may be
// loaded, and never reached when things work.
const wait = 60 * time.Second

// needPython returns the python3 on PATH, or skips the test: under -short,
// and when there is none unless WSGO_NO_SKIP is set.
func needPython(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Python workers: not under -short")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("WSGO_NO_SKIP") != "" {
			t.Fatal("python3 is not installed, and WSGO_NO_SKIP is set")
		}
		t.Skip("python3 is not installed")
	}
	return py
}

// systemPython is Debian's Python, which has Flask and Django installed as
// packages; the python3 first on PATH may not.
const systemPython = "/usr/bin/python3"

// needModules returns systemPython if it can import every module, or
// skips the test (fails it under WSGO_NO_SKIP).
func needModules(t *testing.T, modules ...string) string {
	t.Helper()
	needPython(t)
	cmd := exec.Command(systemPython, "-c", "import "+strings.Join(modules, ", "))
	if out, err := cmd.CombinedOutput(); err != nil {
		msg := systemPython + " cannot import " + strings.Join(modules, ", ") + ": " + strings.TrimSpace(string(out))
		if os.Getenv("WSGO_NO_SKIP") != "" {
			t.Fatal(msg + " (apt-get install python3-flask python3-django), and WSGO_NO_SKIP is set")
		}
		t.Skip(msg)
	}
	return systemPython
}

// project writes files into a new directory and returns it.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// load starts target in dir, or returns the error.
func load(t *testing.T, dir, target string, opts Options) (*App, error) {
	t.Helper()
	tg, err := ParseTarget(target)
	if err != nil {
		t.Fatal(err)
	}
	opts.Dir = dir
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	a, err := Start(ctx, tg, opts)
	if err == nil {
		t.Cleanup(func() { a.Close() })
	}
	return a, err
}

// start starts target in dir, failing the test if it cannot.
func start(t *testing.T, dir, target string, opts Options) *App {
	t.Helper()
	a, err := load(t, dir, target, opts)
	if err != nil {
		t.Fatalf("Start(%s): %v", target, err)
	}
	return a
}

// loadError starts target, expecting a *LoadError.
func loadError(t *testing.T, dir, target string, opts Options) *LoadError {
	t.Helper()
	a, err := load(t, dir, target, opts)
	if err == nil {
		a.Close()
		t.Fatalf("Start(%s) succeeded", target)
	}
	le, ok := err.(*LoadError)
	if !ok {
		t.Fatalf("Start(%s): %T %v, not a *LoadError", target, err, err)
	}
	return le
}

// events is a log a test can wait on: wsgi.errors and the gateway's
// reports go there.
type events struct {
	mu     sync.Mutex
	text   strings.Builder
	notify chan struct{}
}

func newEvents() *events { return &events{notify: make(chan struct{}, 1)} }

func (e *events) Write(p []byte) (int, error) {
	e.mu.Lock()
	e.text.Write(p)
	e.mu.Unlock()
	select {
	case e.notify <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.text.String()
}

// waitFor waits until the log holds s.
func (e *events) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for !strings.Contains(e.String(), s) {
		select {
		case <-e.notify:
		case <-deadline.C:
			t.Fatalf("the log never said %q; it holds:\n%s", s, e.String())
		}
	}
}

// serve serves app on a loopback port, through the gateway, logging to
// the returned events.
func serve(t *testing.T, app wsgi.App) (*httptest.Server, *events) {
	t.Helper()
	ev := newEvents()
	srv := httptest.NewServer(&wsgi.Gateway{App: app, Name: "py", Log: wsgi.LogTo(log.New(ev, "", 0))})
	t.Cleanup(srv.Close)
	return srv, ev
}

// client is an HTTP client whose requests cannot outlive the test's bound.
var client = &http.Client{Timeout: wait}

// fifo makes a named pipe in dir: a Python app blocks reading it until the
// test writes a line, an event rather than a guessed sleep.
func fifo(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := mkfifo(path); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	return path
}

// release writes a line to a named pipe, which the app is reading.
func release(t *testing.T, path string) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString("go\n")
			f.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatalf("nothing read %s", path)
	}
}

// wsgiGet returns the body of GET path from app, through the gateway.
func wsgiGet(app wsgi.App, path string) string {
	return wsgitest.Get(app, path).Body
}

func writeFile(dir, name, content string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
}
