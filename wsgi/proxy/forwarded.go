package proxy

import (
	"iter"
	"strings"
)

// parseForwarded makes hops of an RFC 7239 Forwarded header:
//
//	Forwarded: for=192.0.2.60;proto=https;host=example.com, for="[2001:db8::17]:4711"
//
// Elements are separated by commas, pairs by semicolons; a value is a token
// or a quoted string. A header that does not parse gives no hops at all:
// half of a malformed header is no more trustworthy than the rest.
func parseForwarded(v string) []hop {
	var hops []hop
	for elem := range splitQuoted(v, ',') {
		var h hop
		for pair := range splitQuoted(elem, ';') {
			if pair == "" {
				continue
			}
			key, val, ok := strings.Cut(pair, "=")
			if !ok {
				return nil
			}
			val, ok = unquote(val)
			if !ok {
				return nil
			}
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "for":
				h.addr, h.port = splitAddr(val)
			case "proto":
				h.proto = val
			case "host":
				h.host = val
			}
		}
		hops = append(hops, h)
	}
	return hops
}

// splitQuoted yields the parts of s between seps that are not inside a
// quoted string, each trimmed.
func splitQuoted(s string, sep byte) iter.Seq[string] {
	return func(yield func(string) bool) {
		if strings.TrimSpace(s) == "" {
			return
		}
		quoted, escaped, start := false, false, 0
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case escaped:
				escaped = false
			case quoted && c == '\\':
				escaped = true
			case c == '"':
				quoted = !quoted
			case c == sep && !quoted:
				if !yield(strings.TrimSpace(s[start:i])) {
					return
				}
				start = i + 1
			}
		}
		yield(strings.TrimSpace(s[start:]))
	}
}

// unquote returns a token as it is and a quoted string without its quotes
// and escapes; ok is false for an unterminated quote or a token with
// characters a token cannot have.
func unquote(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, `"`) {
		return v, v != "" && !strings.ContainsAny(v, "\" \t\\")
	}
	if len(v) < 2 || !strings.HasSuffix(v, `"`) {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(v)-1; i++ {
		if v[i] == '\\' && i+1 < len(v)-1 {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String(), true
}
