package termsafe

import "testing"

func TestEscape(t *testing.T) {
	tests := map[string]string{
		"/plain?q=1":        "/plain?q=1",
		"/caf\u00e9/\u20ac": "/caf\u00e9/\u20ac",
		"/a\x1b[31mb":       `/a\x1b[31mb`,
		"/\x00\t\r\n\x7f":   `/\x00\x09\x0d\x0a\x7f`,
		"/a\u009b31m":       `/a\x9b31m`,
		"/a\x9b31m":         `/a\x9b31m`,
		"/\xe9t\xe9":        `/\xe9t\xe9`,
		"/\ufffd":           "/\ufffd",
	}
	for in, want := range tests {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
		if got := string(Append([]byte("x"), in)); got != "x"+want {
			t.Errorf("Append(%q) = %q, want %q", in, got, "x"+want)
		}
	}
}
