package wsgi

import (
	"errors"
	"iter"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzStartResponse feeds start_response arbitrary statuses and headers.
// Whatever it accepts must be safe to put on the wire as given; whatever it
// refuses must be refused with a ResponseError, which becomes a 500.
func FuzzStartResponse(f *testing.F) {
	f.Add("200 OK", "Content-Type", "text/plain")
	f.Add("404 Not Found", "Set-Cookie", "a=1; Path=/")
	f.Add("200", "X", "y")
	f.Add("200 OK", "X-Inject", "a\r\nSet-Cookie: evil=1")
	f.Add("200 OK", "Connection", "close")
	f.Add("999 Odd", "X_Under", "\t tab")
	f.Add("099 Low", "Bad Name", "x")
	f.Add("200 O\x00K", "X", "\x7f")
	f.Fuzz(func(t *testing.T, status, name, value string) {
		code, serr := CheckStatus(status)
		herr := CheckHeader(Header{Name: name, Value: value})
		for _, err := range []error{serr, herr} {
			var re *ResponseError
			if err != nil && !errors.As(err, &re) {
				t.Fatalf("refused with %T, not a ResponseError: %v", err, err)
			}
		}
		if serr == nil && (code < 200 || code > 999 || strings.ContainsAny(status, "\r\n\x00")) {
			t.Fatalf("accepted status %q", status)
		}
		if herr == nil && (strings.ContainsAny(value, "\r\n\x00") || name == "" || strings.ContainsAny(name, " :\r\n")) {
			t.Fatalf("accepted header %q: %q", name, value)
		}
		if serr != nil || herr != nil {
			return
		}
		// Accepted: the gateway sends exactly that status and header.
		app := AppFunc(func(_ Environ, start StartResponse) iter.Seq[[]byte] {
			start(status, Headers{{Name: name, Value: value}})
			return nil
		})
		rec := httptest.NewRecorder()
		(&Gateway{App: app, Log: testLog(discard{})}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if rec.Code != code {
			t.Fatalf("status %q sent as %d", status, rec.Code)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestCheckHeaderAllocatesNothing: every header of every response is
// checked, twice under the validator.
func TestCheckHeaderAllocatesNothing(t *testing.T) {
	h := Header{Name: "Content-Type", Value: "application/json"}
	allocs := testing.AllocsPerRun(100, func() {
		if err := CheckHeader(h); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("checking a header costs %.0f allocations, want none", allocs)
	}
	for _, name := range []string{"CONNECTION", "Transfer-Encoding", "sTaTuS"} {
		if err := CheckHeader(Header{Name: name, Value: "x"}); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	long := strings.Repeat("X-Long-", 10) + "Upgrade"
	if err := CheckHeader(Header{Name: long, Value: "x"}); err != nil {
		t.Errorf("%s refused: %v", long, err)
	}
	if err := CheckHeader(Header{Name: "CONTENT-LENGTH", Value: "-1"}); err == nil {
		t.Error("Content-Length -1 accepted")
	}
}
