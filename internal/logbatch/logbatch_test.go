package logbatch

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// line is a Hold's add for the text s.
func line(s string) func(buf, stamp []byte) []byte {
	return func(buf, stamp []byte) []byte { return append(append(append(buf, stamp...), s...), '\n') }
}

var noon = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func TestOrderIsKept(t *testing.T) {
	var out bytes.Buffer
	b := New(&out, "15:04:05 ")
	b.Hold(noon, line("at once")) // no batching yet
	b.Batch(time.Hour)
	b.Hold(noon, line("held"))
	b.Write([]byte("a message\n"))
	b.Hold(noon, line("held again"))
	if out.String() != "12:00:00 at once\n12:00:00 held\na message\n" {
		t.Fatalf("before the flush: %q", out.String())
	}
	b.Flush()
	if !strings.HasSuffix(out.String(), "a message\n12:00:00 held again\n") {
		t.Errorf("after the flush: %q", out.String())
	}
}

// gate is a writer whose first write waits until it is opened.
type gate struct {
	mu      sync.Mutex
	out     bytes.Buffer
	entered chan struct{}
	open    chan struct{}
	once    sync.Once
}

func (g *gate) Write(p []byte) (int, error) {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		<-g.open
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.Write(p)
}

// TestHoldDoesNotWaitForTheDisk: while one request writes a full batch to a
// slow file, the others hold their lines and go on; the batches still go
// out in order.
func TestHoldDoesNotWaitForTheDisk(t *testing.T) {
	g := &gate{entered: make(chan struct{}), open: make(chan struct{})}
	b := New(g, "")
	b.Batch(time.Hour)
	long := strings.Repeat("x", 1000)
	go func() {
		for i := 0; i*len(long) <= maxHeld; i++ { // one line more than a batch holds
			b.Hold(noon, line(fmt.Sprint("first ", i, long)))
		}
	}()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the full batch was not written")
	}
	held := make(chan struct{})
	go func() {
		for i := range 10 {
			b.Hold(noon, line(fmt.Sprint("second ", i)))
		}
		close(held)
	}()
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("holding a line waited for another batch's write")
	}
	close(g.open)
	b.Flush()
	out := g.out.String()
	if strings.Count(out, "\n") != maxHeld/len(long)+1+10 || strings.Index(out, "second 0") < strings.LastIndex(out, "first ") {
		t.Errorf("%d lines, the second batch's first at %d, the first's last at %d",
			strings.Count(out, "\n"), strings.Index(out, "second 0"), strings.LastIndex(out, "first "))
	}
}

// TestEveryLineOnce: lines held from many goroutines, with batches filled
// and written as they go, all come out, each once and whole.
func TestEveryLineOnce(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	b := New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	}), "")
	b.Batch(time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				b.Hold(noon, line(fmt.Sprintf("g%d line %d %s", g, i, strings.Repeat(".", 40))))
			}
		})
	}
	wg.Wait()
	b.Flush()
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		if seen[l] || !strings.HasSuffix(l, strings.Repeat(".", 40)) {
			t.Fatalf("line %q repeated or cut", l)
		}
		seen[l] = true
	}
	if len(seen) != 8*2000 {
		t.Errorf("%d lines, want %d", len(seen), 8*2000)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// stuck is a writer that takes nothing until opened.
type stuck struct {
	open chan struct{}
	mu   sync.Mutex
	out  strings.Builder
}

func (s *stuck) Write(p []byte) (int, error) {
	<-s.open
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.Write(p)
}

// TestStuckLogHoldsBack: a log that takes nothing does not pile up
// batches, each with a goroutine waiting to write it; once it takes them
// again, every line comes out.
func TestStuckLogHoldsBack(t *testing.T) {
	s := &stuck{open: make(chan struct{})}
	b := New(s, "")
	b.Batch(time.Millisecond)
	before := runtime.NumGoroutine()
	lines := 0
	for start := time.Now(); time.Since(start) < 300*time.Millisecond && lines < 10000; lines++ {
		b.Hold(noon, line("a request"))
		time.Sleep(time.Millisecond)
	}
	if grown := runtime.NumGoroutine() - before; grown > 5 {
		t.Errorf("%d goroutines more, waiting to write batches to a stuck log", grown)
	}
	close(s.open)
	b.Flush()
	if n := strings.Count(s.out.String(), "\n"); n != lines {
		t.Errorf("%d lines written, want %d", n, lines)
	}
}

// TestPanicsDoNotWedgeTheLog: a line's formatting or the writer may panic
// (net/http recovers a handler's panic); the log goes on.
func TestPanicsDoNotWedgeTheLog(t *testing.T) {
	panicky := true
	var out strings.Builder
	b := New(writerFunc(func(p []byte) (int, error) {
		if panicky {
			panicky = false
			panic("the disk")
		}
		return out.Write(p)
	}), "")
	b.Batch(time.Hour)
	recovering := func(f func()) {
		defer func() { recover() }()
		f()
	}
	done := make(chan struct{})
	go func() {
		recovering(func() { b.Hold(noon, func([]byte, []byte) []byte { panic("a line") }) })
		recovering(func() { b.Write([]byte("lost to the writer's panic\n")) })
		b.Hold(noon, line("after"))
		b.Write([]byte("stopping\n"))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the log waits forever after a panic")
	}
	if out.String() != "after\nstopping\n" {
		t.Errorf("log %q", out.String())
	}
}
