package recorder

import (
	"net/http"
	"testing"
)

// sink is a ResponseWriter that takes everything.
type sink struct{ header http.Header }

func (s *sink) Header() http.Header         { return s.header }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(int)             {}

// TestFinalStatus: an Early Hints before the response is not its status,
// which both request logs once disagreed on.
func TestFinalStatus(t *testing.T) {
	for _, tt := range []struct {
		codes []int
		want  int
	}{
		{nil, 200},
		{[]int{http.StatusEarlyHints, http.StatusNotFound}, 404},
		{[]int{http.StatusEarlyHints}, 200}, // then the body
		{[]int{http.StatusSwitchingProtocols}, 101},
		{[]int{http.StatusCreated, http.StatusInternalServerError}, 201},
	} {
		r := New(&sink{header: http.Header{}})
		for _, c := range tt.codes {
			r.WriteHeader(c)
		}
		r.Write([]byte("body"))
		if r.Status() != tt.want || r.Size() != 4 {
			t.Errorf("%v: status %d size %d, want %d and 4", tt.codes, r.Status(), r.Size(), tt.want)
		}
	}
}
