//go:build unix

package python

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// heavyPackage is a dependency installed outside the project, which notes
// each import of it in a file.
const heavyPackage = `import os
with open(os.environ["HEAVY_IMPORTS"], "a") as noted:
    noted.write("imported\n")
`

const heavyApp = `import os

import heavy

with open(os.environ["HEAVY_IMPORTS"], "a") as noted:
    noted.write("app ran\n")


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%s pid %d" % (VERSION, __import__("os").getpid())]


VERSION = b"one"
`

// preloadProject writes an app that imports a dependency from a
// site-packages directory, and starts a preloader for it.
func preloadProject(t *testing.T) (dir, imports string, p *Preloader, opts Options) {
	t.Helper()
	needPython(t)
	deps := t.TempDir()
	site := filepath.Join(deps, "lib", "site-packages")
	imports = filepath.Join(deps, "imports")
	dir = project(t, map[string]string{"app.py": heavyApp})
	if err := os.MkdirAll(filepath.Join(site, "heavy"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(site, "heavy", "__init__.py"), []byte(heavyPackage), 0o644); err != nil {
		t.Fatal(err)
	}
	opts = Options{Dir: dir, Env: append(os.Environ(), "PYTHONPATH="+site, "HEAVY_IMPORTS="+imports), Logf: t.Logf}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	p, err := StartPreloader(ctx, Target{File: "app.py", Name: "app"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	for deadline := time.Now().Add(wait); !p.Ready(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the preloader never became ready")
		}
	}
	opts.Preload = p.Socket
	return dir, imports, p, opts
}

func importCount(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Count(string(data), "imported")
}

// TestPreloadedWorkersSkipDependencies: a worker forked from the preloader
// imports the project's code afresh (a save shows) but not the dependency,
// which only the preloader imported.
func TestPreloadedWorkersSkipDependencies(t *testing.T) {
	dir, imports, _, opts := preloadProject(t)
	before := importCount(t, imports)
	if before == 0 {
		t.Fatal("the preloader did not import the dependency")
	}
	if data, _ := os.ReadFile(imports); strings.Contains(string(data), "app ran") {
		t.Error("the preloader ran the project's code: an import's side effects would happen twice")
	}
	a := start(t, dir, "app.py:app", opts)
	if body := wsgiGet(a, "/"); !strings.HasPrefix(body, "one pid ") {
		t.Fatalf("body %q", body)
	}
	a.Close()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte(strings.Replace(heavyApp, `b"one"`, `b"two"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	b := start(t, dir, "app.py:app", opts)
	if body := wsgiGet(b, "/"); !strings.HasPrefix(body, "two pid ") {
		t.Errorf("after a save, body %q: the forked worker did not import the project afresh", body)
	}
	if n := importCount(t, imports); n != before {
		t.Errorf("the dependency was imported %d more times: the workers were not forked from the preloader", n-before)
	}
}

// TestPreloaderStartsAfreshWhenADependencyChanges: an upgraded dependency
// makes the preloader start anew, and meanwhile the worker starts from a
// fresh interpreter: it runs the new code.
func TestPreloaderStartsAfreshWhenADependencyChanges(t *testing.T) {
	dir, imports, _, opts := preloadProject(t)
	site := strings.TrimPrefix(opts.Env[len(opts.Env)-2], "PYTHONPATH=")
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(filepath.Join(site, "heavy", "__init__.py"), later, later)
	before := importCount(t, imports)
	a := start(t, dir, "app.py:app", opts)
	if body := wsgiGet(a, "/"); !strings.HasPrefix(body, "one pid ") {
		t.Fatalf("body %q", body)
	}
	if importCount(t, imports) == before {
		t.Error("the worker did not import the changed dependency afresh")
	}
	// The preloader started anew: workers are forked from it again.
	p := &Preloader{Socket: opts.Preload}
	for deadline := time.Now().Add(wait); !p.Ready(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the preloader did not come back")
		}
	}
	again := importCount(t, imports)
	b := start(t, dir, "app.py:app", opts)
	wsgiGet(b, "/")
	if n := importCount(t, imports); n != again {
		t.Errorf("after its restart, the preloader did not fork the worker (%d more imports)", n-again)
	}
}

// TestNoPreloaderStartsFresh: a preloader socket that is not there costs
// nothing but the preload.
func TestNoPreloaderStartsFresh(t *testing.T) {
	needPython(t)
	dir := project(t, map[string]string{"app.py": "def app(e, s):\n    s('200 OK', [('Content-Type', 'text/plain')])\n    return [b'fresh']\n"})
	a := start(t, dir, "app.py:app", Options{Preload: filepath.Join(t.TempDir(), "none.sock")})
	if body := wsgiGet(a, "/"); body != "fresh" {
		t.Errorf("body %q", body)
	}
}

// TestForkedWorkerThatFailsAtOnce: a worker forked from the preloader that
// cannot load the app exits within moments, maybe before it is waited for;
// what it said before it exited (a SyntaxError, its line) still reaches the
// caller.
func TestForkedWorkerThatFailsAtOnce(t *testing.T) {
	dir, _, _, opts := preloadProject(t)
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte("import heavy\ndef app(:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The worst case: the worker has exited before its handshake is read.
	testHookBeforeHandshake = func(w *worker) {
		select {
		case <-w.exited:
		case <-time.After(wait):
			t.Error("the worker did not exit")
		}
	}
	defer func() { testHookBeforeHandshake = nil }()
	for range 3 {
		le := loadError(t, dir, "app.py:app", opts)
		if le.Kind != LoadSyntax || !strings.Contains(le.Error(), "app.py:2") {
			t.Fatalf("load error %s %q, want the SyntaxError at app.py:2", le.Kind, le.Error())
		}
	}
}

// TestPreloaderStartsAgainWhenItDies: a preloader killed outright starts
// again by itself, and workers are forked from it as before.
func TestPreloaderStartsAgainWhenItDies(t *testing.T) {
	dir, imports, p, opts := preloadProject(t)
	killed := p.Pid()
	killGroup(killed)
	for deadline := time.Now().Add(wait); p.Pid() == killed || !p.Ready(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the preloader did not start again")
		}
	}
	before := importCount(t, imports)
	a := start(t, dir, "app.py:app", opts)
	if body := wsgiGet(a, "/"); !strings.HasPrefix(body, "one pid ") {
		t.Fatalf("body %q", body)
	}
	if n := importCount(t, imports); n != before {
		t.Errorf("the worker was not forked from the preloader that started again (%d more imports)", n-before)
	}
}
