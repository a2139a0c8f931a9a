// Package termsafe escapes text that came from a client before it reaches a
// terminal, as CPython's http.server does in its log (gh-100001).
package termsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape writes each C0 or C1 control character and DEL in s as \xNN: a
// request line is the client's text, and a terminal takes ESC or U+009B for
// the start of a command. Bytes that are not UTF-8 are escaped too, since a
// terminal that reads Latin-1 takes a lone 0x9b byte for the same command.
func Escape(s string) string {
	if plain(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Append appends s to b, escaped as Escape does, allocating nothing when
// there is nothing to escape.
func Append(b []byte, s string) []byte {
	if plain(s) {
		return append(b, s...)
	}
	return append(b, Escape(s)...)
}

// plain reports whether s is printable ASCII, with nothing to escape.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}
