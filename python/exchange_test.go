package python

import (
	"io"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/wsgi"
)

// TestAwaitBody: a request with no body costs no prefetch buffer (its
// input is left as it was); one with a body reads it whole, as it came.
func TestAwaitBody(t *testing.T) {
	for _, tt := range []struct{ name, length, body string }{
		{"no body", "", ""},
		{"no body, length 0", "0", ""},
		{"a body", "5", "hello"},
		{"chunked", "", "hello"},
		{"larger than the prefetch", "", strings.Repeat("x", prefetchSize+10)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.NewReader(tt.body)
			env := wsgi.Environ{"wsgi.input": in, "CONTENT_LENGTH": tt.length}
			if !awaitBody(env) {
				t.Fatal("awaitBody failed")
			}
			if tt.body == "" && env["wsgi.input"] != in {
				t.Errorf("a request with no body has its input wrapped: %T", env["wsgi.input"])
			}
			if got, _ := io.ReadAll(env.Input()); string(got) != tt.body {
				t.Errorf("the app reads %d bytes, want the %d sent", len(got), len(tt.body))
			}
		})
	}
}
