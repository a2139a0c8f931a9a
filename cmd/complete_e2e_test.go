//go:build unix

package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCompletionNeverBuilds: Tab on `wsgo serve ` in a user's module
// answers without the go command (a go that fails, and says it ran, is
// first on PATH): from the source before any serve, from what the last
// serve's build listed after it, and from the source again once a file
// changed.
func TestCompletionNeverBuilds(t *testing.T) {
	e2e(t)
	m := newUserModule(t, "")
	m.run(t, "new", "hello")
	m.write(t, "blog/blog.go", `package blog

import (
	"iter"

	"github.com/wsgo/wsgo/wsgi"
)

const name = "blog"

func init() {
	wsgi.Register(name, wsgi.AppFunc(func(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
		start("200 OK", nil)
		return wsgi.BodyString("blog")
	}))
}
`)
	// The cache of completion under a directory of the test's own; the go
	// command's stays where it is, warm.
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	fake := t.TempDir()
	ran := filepath.Join(t.TempDir(), "go-ran")
	os.WriteFile(filepath.Join(fake, "go"), []byte("#!/bin/sh\n: > "+ran+"\nexit 1\n"), 0o755)
	complete := func() string {
		t.Helper()
		c := m.command("__complete", "serve", "")
		c.Env = append(c.Env, "XDG_CACHE_HOME="+cache, "PATH="+fake+string(os.PathListSeparator)+m.path)
		began := time.Now()
		out, err := c.Output()
		if err != nil {
			t.Fatalf("wsgo __complete: %v", err)
		}
		t.Logf("completion in %s: %q", time.Since(began).Round(time.Millisecond), out)
		if _, err := os.Stat(ran); err == nil {
			t.Fatal("completion ran the go command")
		}
		return string(out)
	}
	if out := complete(); !strings.Contains(out, "hello\n") || strings.Contains(out, "blog") {
		t.Errorf("before any build, completion offers %q; want hello, as the source says", out)
	}

	c := m.command("serve", "hello", "--port", "0")
	c.Env = append(c.Env, "XDG_CACHE_HOME="+cache, "GOCACHE="+strings.TrimSpace(string(gocache)))
	s := startCmd(t, c)
	s.waitForOutput(t, "Ready in")
	s.stop(t, os.Interrupt)
	if out := complete(); !strings.Contains(out, "hello\n") || !strings.Contains(out, "blog\n") {
		t.Errorf("after a serve, completion offers %q; want what its build listed: blog and hello", out)
	}

	src, _ := os.ReadFile(filepath.Join(m.dir, "blog", "blog.go"))
	m.write(t, "blog/blog.go", strings.Replace(string(src), `"blog"`, `"journal"`, 1))
	if out := complete(); strings.Contains(out, "blog") {
		t.Errorf("after an edit, completion offers %q, from a stale cache", out)
	}
}
