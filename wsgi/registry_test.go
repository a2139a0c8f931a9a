package wsgi

import (
	"iter"
	"slices"
	"strings"
	"testing"
)

// withRegistry runs f against an empty registry and restores the real one.
func withRegistry(t *testing.T) {
	t.Helper()
	mu.Lock()
	saved := registry
	registry = map[string]Entry{}
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		registry = saved
		mu.Unlock()
	})
}

func nop(Environ, StartResponse) iter.Seq[[]byte] { return nil }

func wantPanic(t *testing.T, contains string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		v := recover()
		if v == nil {
			t.Fatalf("no panic; want one mentioning %q", contains)
		}
		if msg, _ := v.(string); !strings.Contains(msg, contains) {
			t.Fatalf("panic %v; want one mentioning %q", v, contains)
		}
	}()
	f()
}

func TestRegisterPanicsOnMistakes(t *testing.T) {
	withRegistry(t)
	wantPanic(t, "empty name", func() { Register("", AppFunc(nop)) })
	wantPanic(t, "nil app", func() { Register("x", nil) })
	Register("x", AppFunc(nop))
	wantPanic(t, `twice for "x"`, func() { Register("x", AppFunc(nop)) })
}

func TestLookupAndNames(t *testing.T) {
	withRegistry(t)
	Register("zeta", AppFunc(nop))
	Register("alpha", AppFunc(nop), Describe("the first"))
	Register("mid", AppFunc(nop))

	if got, want := Names(), []string{"alpha", "mid", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	e, ok := Lookup("alpha")
	if !ok || e.Name != "alpha" || e.Description != "the first" || e.App == nil {
		t.Errorf("Lookup(alpha) = %+v, %v", e, ok)
	}
	if _, ok := Lookup("nope"); ok {
		t.Error("Lookup(nope) found an app")
	}
}
