package wsgi

import (
	"iter"
	"testing"
)

func TestEnvironAccessors(t *testing.T) {
	env := Environ{
		"CONTENT_TYPE":     "text/html",
		"HTTP_USER_AGENT":  "curl",
		"HTTP_X_REQ_ID":    "7",
		"SCRIPT_NAME":      "/app",
		"PATH_INFO":        "/x",
		"QUERY_STRING":     "a=1",
		"REQUEST_METHOD":   "POST",
		"REMOTE_ADDR":      "::1",
		"CONTENT_LENGTH":   42, // not a string: Get ignores it
		"wsgi.url_scheme":  "http",
		"wsgo.unrelated":   struct{}{},
		"wsgi.multithread": true,
	}
	for _, c := range []struct{ got, want string }{
		{env.Header("Content-Type"), "text/html"},
		{env.Header("user-agent"), "curl"},
		{env.Header("X-Req-Id"), "7"},
		{env.Header("Content-Length"), ""},
		{env.ScriptName(), "/app"},
		{env.PathInfo(), "/x"},
		{env.QueryString(), "a=1"},
		{env.Method(), "POST"},
		{env.RemoteAddr(), "::1"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	// Missing streams and context fall back to harmless values.
	empty := Environ{}
	if n, _ := empty.Input().Read(make([]byte, 1)); n != 0 {
		t.Error("Input of an empty environ read data")
	}
	if _, err := empty.Errors().Write([]byte("x")); err != nil {
		t.Error(err)
	}
	if empty.Context() == nil {
		t.Error("nil Context")
	}
}

func TestBodyHelpers(t *testing.T) {
	collect := func(s iter.Seq[[]byte]) []string {
		var out []string
		for c := range s {
			out = append(out, string(c))
		}
		return out
	}
	if got := collect(Body([]byte("a"), nil, []byte("b"))); len(got) != 3 || got[0] != "a" || got[2] != "b" {
		t.Errorf("Body chunks %q", got)
	}
	if got := collect(BodyString("a", "b", "c")); len(got) != 1 || got[0] != "abc" {
		t.Errorf("BodyString chunks %q, want one chunk", got)
	}
	if got := collect(BodyString()); len(got) != 1 || got[0] != "" {
		t.Errorf("BodyString() chunks %q, want one empty chunk", got)
	}
	// Every response of an app that answers with BodyString pays for it.
	parts := []string{"Hello, ", "world"}
	size := 0
	if n := testing.AllocsPerRun(100, func() {
		for c := range BodyString(parts...) {
			size += len(c)
		}
	}); n > 2 {
		t.Errorf("BodyString: %.0f allocations, want 2", n)
	}
	// A consumer that stops early stops the body.
	n := 0
	for range Body([]byte("1"), []byte("2"), []byte("3")) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("iterated %d times after break", n)
	}
}

func TestResponseErrorText(t *testing.T) {
	err := &ResponseError{Rule: "hop-by-hop header", Detail: `"Connection"`}
	if got := err.Error(); got != `start_response: hop-by-hop header: "Connection"` {
		t.Errorf("Error() = %q", got)
	}
}
