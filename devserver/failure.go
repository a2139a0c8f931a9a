package devserver

import (
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// fileLine finds compiler positions such as "apps/demo.go:12:5:" or a
// stack's "/src/apps/demo.go:12".
var fileLine = regexp.MustCompile(`[\w./\\-]+\.go:\d+(?::\d+)?`)

var failurePage = template.Must(template.New("failure").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
h1 { color: #b00020; font-size: 1.4em; }
pre { font: 13px/1.45 ui-monospace, monospace; background: #1e1e1e; color: #eee; padding: 1em; overflow-x: auto; white-space: pre-wrap; }
mark { background: #ffd54f; color: #000; padding: 0 .2em; border-radius: 2px; }
footer { color: #666; font-size: .85em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<pre>{{.Detail}}</pre>
<footer>{{.When}} · wsgo serves this page until the next good build: save a fix and this page reloads itself (or reload it).</footer>
</body>
</html>
`))

// Failure returns a handler that answers every request with 500 and the
// failure: a build's compiler output or a server's crash. Browsers get an
// HTML page with each file:line marked; other clients get plain text.
func Failure(failure string) http.Handler {
	title, detail, _ := strings.Cut(failure, "\n")
	detail = strings.TrimLeft(detail, "\n")
	when := time.Now().Format("15:04:05")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Server", Software)
		if !strings.Contains(r.Header.Get("Accept"), "text/html") {
			h.Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(title + "\n\n" + detail + "\n"))
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		failurePage.Execute(w, map[string]any{"Title": title, "Detail": markFileLines(detail), "When": when})
	})
}

// markFileLines escapes text for HTML and wraps each file:line in <mark>.
func markFileLines(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range fileLine.FindAllStringIndex(text, -1) {
		b.WriteString(template.HTMLEscapeString(text[last:m[0]]))
		b.WriteString("<mark>" + template.HTMLEscapeString(text[m[0]:m[1]]) + "</mark>")
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String())
}
