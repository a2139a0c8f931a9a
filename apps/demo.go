package apps

import (
	"context"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/wsgo/wsgo/wsgi"
)

func init() {
	wsgi.Register("demo", wsgi.AppFunc(Demo), wsgi.Describe("echoes the request, then dumps the whole environ"))
}

// Demo is the built-in "demo" app. Like the classic WSGI tutorial it echoes
// the request method, path info, remote host and query string, and then, like
// wsgiref's demo_app, lists every environ key in sorted order.
func Demo(env wsgi.Environ, start wsgi.StartResponse) iter.Seq[[]byte] {
	var b strings.Builder
	fmt.Fprintf(&b, "The request method was %s\n", env.Method())
	fmt.Fprintf(&b, "The request path info was %s\n", env.PathInfo())
	fmt.Fprintf(&b, "The remote host was %s\n", env.RemoteAddr())
	fmt.Fprintf(&b, "The query string was %s\n", env.QueryString())
	b.WriteString("\n")
	b.WriteString(Dump(env))

	start("200 OK", wsgi.Headers{
		{Name: "Content-Type", Value: "text/plain; charset=utf-8"},
		{Name: "Content-Length", Value: strconv.Itoa(b.Len())},
	})
	return wsgi.BodyString(b.String())
}

// Dump formats env one key a line, sorted: "KEY = VALUE". Strings are quoted
// as Go quotes them, booleans are true or false, streams and contexts are
// shown by their type in angle brackets, and anything else as fmt's %v writes it.
func Dump(env wsgi.Environ) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(&b, "%s = %s\n", k, formatValue(env[k]))
	}
	return b.String()
}

func formatValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case bool:
		return strconv.FormatBool(v)
	case context.Context, io.Reader, io.Writer:
		return fmt.Sprintf("<%T>", v)
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprintf("%v", v)
	}
}
