package serve

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The collector's percentage (GOGC) in a built program with a small heap,
// and the most the heap may grow between collections for it to stay above
// Go's default of 100.
const (
	smallHeapGCPercent = 400
	gcHeadroom         = 64 << 20
)

// collectLess makes the collector run less often while the program's live
// heap is small: a server with a few MiB of live objects allocates them
// over again every few thousand requests, and with Go's default the
// collector runs dozens of times a second under load. It sets GOGC to 400 while the live heap is under 16 MiB, and less
// above, down to Go's 100 at 64 MiB, so that the heap never takes more
// than 48 MiB beyond what it would with the default. wsgo serve and wsgo
// run make the same trade. GOGC or GOMEMLIMIT in the environment turns it
// off, and so does a program that sets its own percentage.
func collectLess() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	t := &gcTuner{set: 100}
	t.tune()
}

// A gcTuner sets the collector's percentage after each collection, for the
// live heap it left.
type gcTuner struct{ set int }

// gcCycle is an object that lives until the next collection: its cleanup
// tells that the collection took place.
type gcCycle struct{ _ *byte }

func (t *gcTuner) tune() {
	if p := gcPercentFor(liveHeap()); p != t.set {
		if was := debug.SetGCPercent(p); was != t.set {
			debug.SetGCPercent(was) // the program's own: leave it, and stop
			return
		}
		t.set = p
	}
	runtime.AddCleanup(new(gcCycle), (*gcTuner).tune, t)
}

// gcPercentFor is the percentage for a live heap of live bytes: 400, or
// what lets the heap grow by gcHeadroom, and not under 100.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return smallHeapGCPercent
	}
	return int(max(100, min(smallHeapGCPercent, gcHeadroom*100/live)))
}

// liveHeap is the bytes of the objects the latest collection found alive.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
