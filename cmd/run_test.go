package cmd

import "testing"

// TestGoProcs: wsgo run leaves half the processors to its Python workers,
// and always keeps one for Go.
func TestGoProcs(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 1, 3: 1, 4: 2, 16: 8} {
		if got := goProcs(n); got != want {
			t.Errorf("goProcs(%d) = %d, want %d", n, got, want)
		}
	}
}
