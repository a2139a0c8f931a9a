package gcpace

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

const mib = 1 << 20

func TestPercentFor(t *testing.T) {
	for _, c := range []struct {
		scanned uint64
		want    int
	}{
		{0, 400}, {mib, 400}, {16 * mib, 400}, {32 * mib, 200}, {48 * mib, 133}, {64 * mib, 100}, {1 << 30, 100},
	} {
		if got := percentFor(c.scanned); got != c.want {
			t.Errorf("%d MiB scanned: GOGC %d, want %d", c.scanned/mib, got, c.want)
		}
	}
}

// sample reads one of the runtime's metrics.
func sample(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// awaitPercent collects until GOGC satisfies ok: the tuner runs after a
// collection, on the runtime's cleanup goroutine.
func awaitPercent(t *testing.T, ok func(uint64) bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; time.Now().Before(deadline) && i < 1000; i++ {
		runtime.GC()
		if ok(sample("/gc/gogc:percent")) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("GOGC %d, want it %s", sample("/gc/gogc:percent"), what)
}

// collected runs two collections and waits until the cleanups queued by
// each have run, the tuner's among them.
func collected(t *testing.T) {
	t.Helper()
	for range 2 {
		ran := make(chan struct{})
		runtime.AddCleanup(new(cycle), func(ran chan struct{}) { close(ran) }, ran)
		runtime.GC()
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatal("no cleanup ran within 10s of a collection")
		}
	}
}

// tuning starts Tune with Go's defaults, and puts them back after the test.
func tuning(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	debug.SetGCPercent(100)
	t.Cleanup(func() {
		debug.SetMemoryLimit(math.MaxInt64)
		debug.SetGCPercent(100)
		runtime.GC() // a tuner left armed stops here: the percentage is not its own
	})
	runtime.GC()
	Tune()
}

func TestTuneFollowsTheHeap(t *testing.T) {
	tuning(t)
	if got := sample("/gc/gogc:percent"); got != 400 {
		t.Fatalf("GOGC %d with a small heap, want 400", got)
	}
	held := make([]byte, 40*mib)
	awaitPercent(t, func(p uint64) bool { return p >= 100 && p < 400 }, "under 400 with 40 MiB more alive")
	runtime.KeepAlive(held)
	held = nil
	awaitPercent(t, func(p uint64) bool { return p == 400 }, "back to 400 once they are gone")
}

// deep holds a goroutine's stack at n frames of half a KiB until block
// closes.
//
//go:noinline
func deep(n int, ready chan<- struct{}, block <-chan struct{}) byte {
	var pad [512]byte
	pad[n%len(pad)] = byte(n)
	if n > 0 {
		return deep(n-1, ready, block) + pad[(n*7)%len(pad)]
	}
	ready <- struct{}{}
	<-block
	return pad[3]
}

// TestTuneCountsStacks: a server's goroutines' stacks are scanned as its
// heap is, and the heap may grow by their size times GOGC too: the bound
// of 48 MiB over Go's default holds with a thousand requests in flight.
func TestTuneCountsStacks(t *testing.T) {
	ready, block := make(chan struct{}), make(chan struct{})
	defer close(block)
	for range 1000 {
		go deep(40, ready, block)
	}
	for range 1000 {
		<-ready
	}
	held := make([]byte, 8*mib)
	tuning(t)
	awaitPercent(t, func(p uint64) bool { return p < 400 }, "under 400 with 8 MiB alive and 20 MiB of stacks")
	runtime.GC()
	live, stacks, globals := sample("/gc/heap/live:bytes"), sample("/gc/scan/stack:bytes"), sample("/gc/scan/globals:bytes")
	goal := sample("/gc/heap/goal:bytes")
	if def := 2*live + stacks + globals; goal > def+48*mib {
		t.Errorf("heap goal %d MiB, %d MiB over Go's default", goal/mib, (goal-def)/mib)
	}
	runtime.KeepAlive(held)
}

func TestTuneLeavesTheProgramsOwnBe(t *testing.T) {
	t.Run("percentage", func(t *testing.T) {
		tuning(t)
		debug.SetGCPercent(250)
		held := make([]byte, 40*mib)
		collected(t)
		runtime.KeepAlive(held)
		if got := sample("/gc/gogc:percent"); got != 250 {
			t.Errorf("GOGC %d after the program set 250", got)
		}
	})
	t.Run("memory limit", func(t *testing.T) {
		tuning(t)
		held := make([]byte, 40*mib)
		awaitPercent(t, func(p uint64) bool { return p < 400 }, "under 400 with 40 MiB more alive")
		debug.SetMemoryLimit(1 << 30)
		was := sample("/gc/gogc:percent")
		runtime.KeepAlive(held)
		collected(t) // without held
		if got := sample("/gc/gogc:percent"); got != was {
			t.Errorf("GOGC went from %d to %d after the program set a memory limit", was, got)
		}
	})
}

func TestTuneLeavesTheEnvironmentBe(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "100")
			debug.SetGCPercent(100)
			Tune()
			if got := sample("/gc/gogc:percent"); got != 100 {
				t.Errorf("with %s set, GOGC became %d", env, got)
			}
		})
	}
}
