package wsgi

import (
	"fmt"
	"strconv"
	"strings"
)

// hopByHop reports the headers that describe one connection, not the
// response, which PEP 3333 leaves to the server; lower is a name in lower
// case. A switch, not a map: every header of every response is looked up,
// and comparing a few strings of the same length costs less than a hash.
func hopByHop(lower string) bool {
	switch lower {
	case "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
		"te", "trailers", "transfer-encoding", "upgrade":
		return true
	}
	return false
}

func ruleError(rule, format string, args ...any) *ResponseError {
	return &ResponseError{Rule: rule, Detail: fmt.Sprintf(format, args...)}
}

// CheckStatus checks a status line as start_response receives it, such as
// "404 Not Found", and returns its code. It refuses, with a [*ResponseError],
// what a server cannot send: a malformed line, a 1xx status (the server sends
// those itself) and control characters. [Gateway] and package validate share
// these rules.
func CheckStatus(status string) (int, error) {
	if len(status) < 4 || status[3] != ' ' {
		return 0, ruleError("malformed status", "%q is not three digits, a space and a reason, as in \"200 OK\"", status)
	}
	code, err := strconv.Atoi(status[:3])
	if err != nil || code < 100 {
		return 0, ruleError("malformed status", "%q does not start with a status code from 100 to 999", status)
	}
	if code < 200 {
		return 0, ruleError("informational status", "%q: the server sends 1xx responses itself", status)
	}
	if i := indexControl(status); i >= 0 {
		return 0, ruleError("control character in status", "%q has %q at byte %d", status, status[i], i)
	}
	return code, nil
}

// CheckHeader applies PEP 3333's rules to one response header: a name made of
// RFC 9110 token characters, no hop-by-hop header (the server owns the
// connection), no Status header, no control character in the value, and a
// Content-Length that is a whole number. It refuses with a [*ResponseError].
// [Gateway] and package validate share these rules.
func CheckHeader(h Header) error {
	if h.Name == "" {
		return ruleError("bad header name", "empty name with value %q", h.Value)
	}
	for i := 0; i < len(h.Name); i++ {
		if !isTokenChar(h.Name[i]) {
			return ruleError("bad header name", "%q has %q, which a header name cannot hold", h.Name, h.Name[i])
		}
	}
	// The name is all tchars, ASCII: lowered on the stack, as every
	// response's headers pass here, where strings.ToLower would allocate.
	var buf [32]byte
	lower := appendLower(buf[:0], h.Name)
	if hopByHop(string(lower)) {
		return ruleError("hop-by-hop header", "%q belongs to the connection, which the server manages", h.Name)
	}
	if string(lower) == "status" {
		return ruleError("status header", "give the status as start_response's first argument, not as a %q header", h.Name)
	}
	if i := indexControl(h.Value); i >= 0 {
		return ruleError("control character in header", "%s: %q has %q at byte %d", h.Name, h.Value, h.Value[i], i)
	}
	if string(lower) == "content-length" {
		if n, err := strconv.ParseInt(h.Value, 10, 64); err != nil || n < 0 {
			return ruleError("bad Content-Length", "%q is not a whole number of bytes", h.Value)
		}
	}
	return nil
}

// appendLower appends name to b with ASCII letters in lower case.
func appendLower(b []byte, name string) []byte {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// indexControl returns the index of the first character in s that no
// status or header value may hold (a tab is allowed: HTTP permits it inside
// a field value), or -1. Those characters are all ASCII, and no byte of a
// longer UTF-8 sequence is ASCII, so it looks at bytes, not runes.
func indexControl(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return i
		}
	}
	return -1
}

// isTokenChar reports whether c may appear in a header name (RFC 9110 tchar).
func isTokenChar(c byte) bool { return tchars[c] }

var tchars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
	}
	return t
}()
