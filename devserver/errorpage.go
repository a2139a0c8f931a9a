package devserver

import (
	"html/template"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/wsgo/wsgo/wsgi"
)

// failurePage is what a 500 page says: an app's failure or a failed build.
type failurePage struct {
	Title   string // the heading, and the first line of the text form
	Request string // the request that failed, as "GET /x"; empty for a build
	Message string // the error
	Detail  string // a stack or compiler output; file:line positions are marked
	Footer  string
}

var failureTemplate = template.Must(template.New("500").Funcs(template.FuncMap{"mark": markFileLines}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
h1 { color: #b00020; font-size: 1.4em; }
.msg { font: 14px/1.5 ui-monospace, monospace; background: #fff0f0; border-left: 4px solid #b00020; padding: .8em 1em; white-space: pre-wrap; }
pre { font: 13px/1.45 ui-monospace, monospace; background: #1e1e1e; color: #eee; padding: 1em; overflow-x: auto; white-space: pre-wrap; }
mark { background: #ffd54f; color: #000; padding: 0 .2em; border-radius: 2px; }
footer { color: #666; font-size: .85em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{with .Request}}<p>{{.}}</p>
{{end}}{{with .Message}}<div class="msg">{{.}}</div>
{{end}}{{with .Detail}}<pre>{{mark .}}</pre>
{{end}}<footer>{{.Footer}}</footer>
</body>
</html>
`))

// text is the page for clients that did not ask for HTML.
func (p failurePage) text() string {
	parts := []string{p.Title}
	for _, s := range []string{p.Message, strings.TrimRight(p.Detail, "\n")} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n\n") + "\n"
}

// writeFailure answers 500 with p. Clients on this machine see it, as HTML
// when they ask for it; anyone else sees only the status, since a stack or
// compiler output can reveal more than the developer meant to share.
func writeFailure(w http.ResponseWriter, r *http.Request, p failurePage) {
	if !isLoopback(r.RemoteAddr) {
		wsgi.PlainErrorPage(w, r, nil)
		return
	}
	h := w.Header()
	h.Set("Server", wsgi.Software)
	h.Set("Cache-Control", "no-store")
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		failureTemplate.Execute(w, p)
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, p.text())
}

// ErrorPage answers 500 for an app that failed before its headers went out,
// with the message and the stack for clients on this machine, and only the
// status for anyone else. It is a [wsgi.Gateway]'s ErrorPage for development:
// behind a reverse proxy, every client is on the proxy's machine.
func ErrorPage(w http.ResponseWriter, r *http.Request, f *wsgi.Failure) {
	writeFailure(w, r, failurePage{
		Title:   "500 Internal Server Error: app \"" + f.App + "\" failed",
		Request: r.Method + " " + r.RequestURI,
		Message: f.Err.Error(),
		Detail:  string(f.Stack),
		Footer:  "wsgo shows this page, and the stack, only to clients on this machine.",
	})
}

// NewGateway returns the gateway the development server runs app behind:
// app's failures and wsgi.errors go to log, and clients on this machine get
// the detailed error page.
func NewGateway(app wsgi.App, name string, log *Logger) *wsgi.Gateway {
	return &wsgi.Gateway{App: app, Name: name, Log: log, ErrorPage: ErrorPage}
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fileLine finds compiler positions such as "apps/demo.go:12:5:" or a
// stack's "/src/apps/demo.go:12".
var fileLine = regexp.MustCompile(`[\w./\\-]+\.go:\d+(?::\d+)?`)

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
