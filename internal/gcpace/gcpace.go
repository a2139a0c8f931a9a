// Package gcpace runs the garbage collector less often while a server's
// heap is small. A server with a few MiB of live objects allocates them
// over again every few thousand requests, and with Go's default (GOGC=100)
// its collector runs dozens of times a second under load. Tune sets GOGC
// to 400 while the heap is small and lowers it as the heap grows, so that
// the heap never takes more than 48 MiB beyond what the default would let
// it: a bounded trade of memory for CPU, where a flat GOGC=400 would
// multiply whatever heap the program's app holds.
package gcpace

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

const (
	// smallHeapPercent is GOGC while the heap is small.
	smallHeapPercent = 400
	// headroom is the most the heap may grow between collections for
	// GOGC to stay above Go's default of 100.
	headroom = 64 << 20
)

// Tune sets GOGC for the program's heap now, and again after each
// collection: 400 while the heap the collector scans (live objects,
// goroutine stacks and globals) is under 16 MiB, then lower, down to Go's
// 100 at 64 MiB. GOGC or GOMEMLIMIT in the environment turns it off, and
// so does a percentage or a memory limit the program sets itself
// (debug.SetGCPercent, debug.SetMemoryLimit) other than Go's defaults.
func Tune() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	t := &tuner{set: 100}
	t.tune()
}

// A tuner sets GOGC after each collection, for the heap it left.
type tuner struct{ set int }

// cycle is an object that lives until the next collection: its cleanup
// tells that the collection took place.
type cycle struct{ _ *byte }

func (t *tuner) tune() {
	s := read()
	if s.percent != uint64(t.set) || s.limit != math.MaxInt64 {
		return // the program's own: leave it, and stop
	}
	if p := percentFor(s.scanned); p != t.set {
		debug.SetGCPercent(p)
		t.set = p
	}
	runtime.AddCleanup(new(cycle), (*tuner).tune, t)
}

// percentFor is GOGC for a heap whose collection scans scanned bytes: the
// runtime lets the heap grow by scanned × GOGC/100 before it collects
// again, so this lets it grow by 4 × scanned, or headroom, and no less
// than Go's default would.
func percentFor(scanned uint64) int {
	if scanned == 0 {
		return smallHeapPercent
	}
	return int(max(100, min(smallHeapPercent, headroom*100/scanned)))
}

// state is what the runtime says of the collector.
type state struct {
	scanned uint64 // live heap, stacks and globals, as of the latest collection
	percent uint64 // GOGC
	limit   uint64 // the memory limit, math.MaxInt64 if none
}

func read() state {
	s := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/scan/stack:bytes"},
		{Name: "/gc/scan/globals:bytes"},
		{Name: "/gc/gogc:percent"},
		{Name: "/gc/gomemlimit:bytes"},
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return state{scanned: v(0) + v(1) + v(2), percent: v(3), limit: v(4)}
}
