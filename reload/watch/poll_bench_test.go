package watch

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/wsgo/wsgo/internal/testkit"
)

// BenchmarkPollLook is one look at a tree of 5,000 Go files in 100
// packages, with nothing changed: the cost polling pays every interval.
func BenchmarkPollLook(b *testing.B) {
	root := b.TempDir()
	for i := range 5000 {
		p := filepath.Join(root, "pkgs", fmt.Sprintf("p%03d", i/50), fmt.Sprintf("f%d.go", i))
		testkit.WriteFile(b, p, fmt.Sprintf("package p%03d\n", i/50))
	}
	w, err := newWatcher(root, Options{Rules: testRules, Poll: DefaultPoll})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	pending := map[string]bool{}
	b.ReportAllocs()
	for b.Loop() {
		if changed, err := w.poll.look(w, pending); err != nil || changed {
			b.Fatalf("look: changed %v, %v", changed, err)
		}
	}
}
