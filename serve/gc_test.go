package serve

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 400}, {mib, 400}, {16 * mib, 400}, {32 * mib, 200}, {48 * mib, 133}, {64 * mib, 100}, {1 << 30, 100},
	} {
		if got := gcPercentFor(c.live); got != c.want {
			t.Errorf("live heap %d MiB: GOGC %d, want %d", c.live/mib, got, c.want)
		}
	}
}

// gcPercent is the collector's percentage now, read without setting it.
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

// TestCollectLess follows the tuner through collections: 400 for the
// test's small heap, less once 40 MiB more are alive, and nothing at all
// once the program has set its own percentage.
func TestCollectLess(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	runtime.GC()
	collectLess()
	if got := gcPercent(); got != 400 {
		t.Fatalf("GOGC %d with a small heap, want 400", got)
	}
	held := make([]byte, 40<<20)
	awaitGCPercent(t, func(p int) bool { return p < 400 && p >= 100 }, "below 400 with 40 MiB more alive")
	runtime.KeepAlive(held)

	debug.SetGCPercent(250) // the program's own
	runtime.GC()
	runtime.GC()
	if got := gcPercent(); got != 250 {
		t.Errorf("GOGC %d after the program set 250", got)
	}
}

func TestCollectLessLeavesGOGCBe(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "100")
			defer debug.SetGCPercent(debug.SetGCPercent(100))
			collectLess()
			if got := gcPercent(); got != 100 {
				t.Errorf("with %s set, GOGC became %d", env, got)
			}
		})
	}
}

// awaitGCPercent collects until the percentage satisfies ok: the tuner
// runs after a collection, on the runtime's cleanup goroutine.
func awaitGCPercent(t *testing.T, ok func(int) bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; time.Now().Before(deadline) && i < 1000; i++ {
		runtime.GC()
		if ok(gcPercent()) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("GOGC %d, want it %s", gcPercent(), what)
}
