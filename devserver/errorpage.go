package devserver

import (
	"errors"
	"html/template"
	"net"
	"net/http"
	"strings"
)

var errorPage = template.Must(template.New("500").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>500 · {{.App}} failed</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
h1 { color: #b00020; font-size: 1.4em; }
.msg { font: 14px/1.5 ui-monospace, monospace; background: #fff0f0; border-left: 4px solid #b00020; padding: .8em 1em; white-space: pre-wrap; }
pre { font: 13px/1.4 ui-monospace, monospace; background: #f6f6f6; padding: 1em; overflow-x: auto; }
footer { color: #666; font-size: .85em; }
</style>
</head>
<body>
<h1>500 Internal Server Error: app “{{.App}}” failed</h1>
<p>{{.Method}} {{.URI}}</p>
<div class="msg">{{.Message}}</div>
{{if .Stack}}<h2>Stack</h2>
<pre>{{.Stack}}</pre>{{end}}
<footer>wsgo shows this page, and the stack, only to clients on this machine.</footer>
</body>
</html>
`))

// writeErrorPage answers 500 for an app that failed before its headers went
// out. Clients on this machine see the message and the stack (as HTML when
// they ask for it); anyone else sees only the status, since a stack can
// reveal more than the developer meant to share.
func writeErrorPage(w http.ResponseWriter, r *http.Request, app string, err error) {
	h := w.Header()
	h.Set("Server", Software)
	h.Set("Cache-Control", "no-store")
	if !isLoopback(r.RemoteAddr) {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("500 Internal Server Error\n"))
		return
	}
	var stack string
	var ae *appError
	if errors.As(err, &ae) {
		stack = string(ae.stack)
	}
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		errorPage.Execute(w, map[string]string{
			"App": app, "Method": r.Method, "URI": r.RequestURI, "Message": err.Error(), "Stack": stack,
		})
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	var b strings.Builder
	b.WriteString("500 Internal Server Error: app \"" + app + "\" failed\n\n" + err.Error() + "\n")
	if stack != "" {
		b.WriteString("\n" + stack)
	}
	w.Write([]byte(b.String()))
}

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
