package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// completionFixture is a module of n app packages, each registering one
// app with a string literal, with the user's cache directory in a
// temporary one.
func completionFixture(tb testing.TB, n int) string {
	tb.Helper()
	tb.Setenv("XDG_CACHE_HOME", tb.TempDir())
	tb.Setenv("HOME", tb.TempDir()) // macOS: ~/Library/Caches
	dir := tb.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	write("go.mod", "module example.com/site\n\ngo 1.25\n\nrequire github.com/wsgo/wsgo v0.0.0\n")
	for i := range n {
		name := "app" + strconv.Itoa(i)
		write(name+"/"+name+".go", "package "+name+"\n\nimport \"github.com/wsgo/wsgo/wsgi\"\n\nfunc init() { wsgi.Register(\""+name+"\", nil) }\n")
	}
	return dir
}

// TestCompletionAnswersFromTheLastBuild: completion answers with what the
// last build listed while no file the build reads has changed, and from
// the source, never a build, once one has.
func TestCompletionAnswersFromTheLastBuild(t *testing.T) {
	dir := completionFixture(t, 1)
	if got := projectApps(dir); !slices.Equal(got, []string{"app0"}) {
		t.Fatalf("with no cache: %q, want the names the source registers", got)
	}
	fp, _ := fingerprint(dir)
	rememberApps(dir, fp, []string{"app0", "named-by-a-constant"})
	if got := projectApps(dir); !slices.Equal(got, []string{"app0", "named-by-a-constant"}) {
		t.Fatalf("with a cache: %q, want what the build listed", got)
	}
	// An edit of the same size a moment later still counts.
	src := filepath.Join(dir, "app0", "app0.go")
	later := time.Now().Add(time.Second)
	os.Chtimes(src, later, later)
	if got := projectApps(dir); !slices.Equal(got, []string{"app0"}) {
		t.Fatalf("after an edit: %q, want the source's names, not the stale cache", got)
	}
	// A new package counts too.
	os.MkdirAll(filepath.Join(dir, "blog"), 0o755)
	os.WriteFile(filepath.Join(dir, "blog", "blog.go"), []byte("package blog\n\nimport \"github.com/wsgo/wsgo/wsgi\"\n\nfunc init() { wsgi.Register(\"blog\", nil) }\n"), 0o644)
	fp2, _ := fingerprint(dir)
	if fp2 == fp {
		t.Fatal("a new file leaves the fingerprint as it was")
	}
	if got := projectApps(dir); !slices.Equal(got, []string{"app0", "blog"}) {
		t.Fatalf("after a new package: %q", got)
	}
}

// BenchmarkCompleteApps is the work of one Tab key in a module of 200 app
// packages: warm, when the last build's list is cached; cold, when the
// source must be scanned.
func BenchmarkCompleteApps(b *testing.B) {
	dir := completionFixture(b, 200)
	b.Run("cached", func(b *testing.B) {
		fp, _ := fingerprint(dir)
		rememberApps(dir, fp, []string{"app0"})
		for b.Loop() {
			if len(projectApps(dir)) != 1 {
				b.Fatal("not from the cache")
			}
		}
	})
	b.Run("scanned", func(b *testing.B) {
		os.RemoveAll(os.Getenv("XDG_CACHE_HOME"))
		for b.Loop() {
			if len(projectApps(dir)) != 200 {
				b.Fatal("not every app was found")
			}
		}
	})
}
