package devserver

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"maps"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wsgo/wsgo/wsgi"
)

// sourceAround is how many lines an excerpt shows on each side of a frame's.
const sourceAround = 3

// maxExcerpts bounds the source excerpts of a build error's page: the go
// command stops at ten errors a package anyway.
const maxExcerpts = 10

// maxFrameSources bounds the user's frames shown with their source, on the
// page and in the terminal: deep recursion repeats the same few frames.
const maxFrameSources = 10

// maxMessage and maxOutput bound a panic's message and a build's output as
// the page and the terminal show them: a panic can carry megabytes.
const (
	maxMessage = 8 << 10
	maxOutput  = 256 << 10
)

// clip returns s cut to its first max bytes (on a character's boundary),
// saying how many more there are.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + fmt.Sprintf("… (%d more bytes)", len(s)-n)
}

// stackCut says that frames, a panic's stack, is not the goroutine's whole
// stack, or returns "": the gateway captures only so many frames, and a
// whole stack ends with the goroutine's start, runtime.goexit.
func stackCut(frames []runtime.Frame) string {
	if len(frames) == 0 || frames[len(frames)-1].Function == "runtime.goexit" {
		return ""
	}
	return fmt.Sprintf("stack cut at %d frames: the outer ones are not shown", len(frames))
}

// failurePage is what a 500 page says: an app's failure or a failed build.
type failurePage struct {
	Title   string // the heading, and the first line of the text form
	Request string // the request that failed, as "GET /x"; empty for a build
	Message string // the error
	Detail  string // a stack or compiler output, when there are no frames
	Footer  string

	Frames  []pageFrame // the user's frames, with their source
	Stack   []pageFrame // every frame, folded away on the page
	Folded  int         // how many of Stack are not the user's
	Others  string      // whose the folded frames are, as "wsgo's, Go's or dependencies'"
	Cut     string      // says the stack was cut, if it was
	Sources []pageSource
	Headers []keyValue
	Environ []keyValue

	DetailHTML template.HTML // Detail, its file:line positions linked
	Text       string        // the page as text, for clients that did not ask for HTML and "Copy as text"
}

// A pageFrame is one frame of a panic's stack on the page.
type pageFrame struct {
	Function string
	Where    string       // file:line as shown
	URL      template.URL // the editor's link, or ""
	Kind     string       // whose code: "yours", "wsgo", "Go" or "dependency"
	User     bool
	Source   []srcLine // for the user's frames
	Stale    string    // staleNote if the file changed since the program started
}

// A pageSource is the source around one position in a build's output.
type pageSource struct {
	Where  string
	URL    template.URL
	Source []srcLine
}

type keyValue struct{ Key, Value string }

var kindNames = map[frameKind]string{userFrame: "yours", wsgoFrame: "wsgo", stdFrame: "Go", depFrame: "dependency", libFrame: "library"}

var failureTemplate = template.Must(template.New("500").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em; color: #222; }
h1 { color: #b00020; font-size: 1.4em; }
h2 { font-size: 1.1em; margin-top: 1.6em; }
.msg { font: 14px/1.5 ui-monospace, monospace; background: #fff0f0; border-left: 4px solid #b00020; padding: .8em 1em; white-space: pre-wrap; }
pre { font: 13px/1.45 ui-monospace, monospace; background: #1e1e1e; color: #eee; padding: 1em; overflow-x: auto; white-space: pre-wrap; tab-size: 4; }
mark { background: #ffd54f; color: #000; padding: 0 .2em; border-radius: 2px; }
pre a { color: inherit; }
.frame { border: 1px solid #ddd; border-radius: 4px; margin: .8em 0; }
.frame .where { padding: .4em .8em; background: #f6f6f6; font: 13px/1.5 ui-monospace, monospace; }
.frame .fn { font-weight: 600; }
.frame .stale { color: #b00020; }
.frame pre { margin: 0; border-radius: 0 0 4px 4px; padding: .5em 0; }
.src span { display: block; padding: 0 1em; }
.src span.hit { background: #5c1a1a; }
.src i { color: #888; font-style: normal; display: inline-block; min-width: 3.5em; user-select: none; }
details { margin: 1em 0; }
summary { cursor: pointer; color: #555; }
ol.stack { font: 13px/1.6 ui-monospace, monospace; padding-left: 2.5em; }
ol.stack li.yours { font-weight: 600; }
ol.stack .kind { color: #888; font-weight: normal; }
table { border-collapse: collapse; font: 13px/1.45 ui-monospace, monospace; width: 100%; }
td { border-top: 1px solid #eee; padding: .15em .5em; vertical-align: top; word-break: break-all; }
td:first-child { white-space: nowrap; color: #555; width: 1%; }
button { font: inherit; padding: .2em .8em; }
footer { color: #666; font-size: .85em; margin-top: 2em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{with .Request}}<p>{{.}}</p>
{{end}}{{with .Message}}<div class="msg">{{.}}</div>
{{end}}{{if .Frames}}<p><button type="button" id="copy">Copy as text</button> <span id="copied"></span></p>
<div id="frames">{{range .Frames}}
<div class="frame"><div class="where"><span class="fn">{{.Function}}</span> {{template "loc" .}}{{with .Stale}} <span class="stale">({{.}})</span>{{end}}</div>
{{if .Source}}<pre class="src">{{range .Source}}<span{{if .Hit}} class="hit"{{end}}><i>{{.N}}</i>{{.Text}}</span>{{end}}</pre>{{end}}</div>{{end}}
</div>
{{end}}{{with .Cut}}<p class="cut">({{.}})</p>
{{end}}{{if .Stack}}<details id="stack"><summary>The whole stack: {{len .Stack}} frames, {{.Folded}} of them {{.Others}}</summary>
<ol class="stack">{{range .Stack}}<li class="{{.Kind}}">{{.Function}} <span class="kind">({{.Kind}})</span><br>{{template "loc" .}}</li>
{{end}}</ol></details>
{{end}}{{with .DetailHTML}}<pre>{{.}}</pre>
{{end}}{{range .Sources}}<div class="frame"><div class="where">{{template "loc" .}}</div>
<pre class="src">{{range .Source}}<span{{if .Hit}} class="hit"{{end}}><i>{{.N}}</i>{{.Text}}</span>{{end}}</pre></div>
{{end}}{{if .Headers}}<h2>Request headers</h2>
<table id="headers">{{range .Headers}}<tr><td>{{.Key}}</td><td>{{.Value}}</td></tr>{{end}}</table>
{{end}}{{if .Environ}}<h2>Environ</h2>
<table id="environ">{{range .Environ}}<tr><td>{{.Key}}</td><td>{{.Value}}</td></tr>{{end}}</table>
{{end}}{{if .Frames}}<textarea id="report" hidden readonly>{{.Text}}</textarea>
<script>
document.getElementById("copy").onclick = async () => {
	const text = document.getElementById("report").value, said = document.getElementById("copied");
	try {
		await navigator.clipboard.writeText(text);
		said.textContent = "Copied.";
	} catch (e) {
		said.textContent = "Could not copy (" + e + "): the text form is what curl gets from this URL.";
	}
};
</script>
{{end}}<footer>{{.Footer}}</footer>
</body>
</html>
{{define "loc"}}{{if .URL}}<a class="loc" href="{{.URL}}">{{.Where}}</a>{{else}}<span class="loc">{{.Where}}</span>{{end}}{{end}}`))

// text is the page for clients that did not ask for HTML.
func (p failurePage) text() string {
	if p.Text != "" {
		return p.Text
	}
	parts := []string{p.Title}
	for _, s := range []string{p.Message, strings.TrimRight(p.Detail, "\n")} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	for _, src := range p.Sources {
		var b strings.Builder
		b.WriteString(src.Where + "\n")
		writeExcerpt(&b, src.Source)
		parts = append(parts, strings.TrimRight(b.String(), "\n"))
	}
	return strings.Join(parts, "\n\n") + "\n"
}

// writeExcerpt writes the lines of an excerpt as the text form shows them,
// numbered, the line the position names marked with "> ".
func writeExcerpt(b *strings.Builder, src []srcLine) {
	for _, l := range src {
		mark := "  "
		if l.Hit {
			mark = "> "
		}
		fmt.Fprintf(b, "%s%5d | %s\n", mark, l.N, l.Text)
	}
}

// writeFailure answers 500 with p. Clients on this machine see it, as HTML
// when they ask for it; anyone else sees only the status, since a stack or
// compiler output can reveal more than the developer meant to share.
func writeFailure(w http.ResponseWriter, r *http.Request, p failurePage) {
	if !local(r) {
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

// Pages are the development server's error pages, for an app's failure
// ([Pages.ErrorPage]) and for a failed build or a crash ([Pages.Problem]).
type Pages struct {
	// Editor makes the links that open a file:line in the user's editor.
	Editor Editor
	// Dir is the directory the relative paths of a build's output are
	// from: where the build ran (the root of a Go module). If empty, it is
	// the working directory.
	Dir string
}

// ErrorPage answers 500 for an app that failed before its headers went out,
// with the message and the stack for clients on this machine, and only the
// status for anyone else. It is a [wsgi.Gateway]'s ErrorPage for development:
// behind a reverse proxy, every client is on the proxy's machine. Its links
// open [DefaultEditor]; see [Pages] for another.
func ErrorPage(w http.ResponseWriter, r *http.Request, f *wsgi.Failure) {
	Pages{}.ErrorPage(w, r, f)
}

// ErrorPage is the package's [ErrorPage], its links opening p.Editor.
func (p Pages) ErrorPage(w http.ResponseWriter, r *http.Request, f *wsgi.Failure) {
	if !local(r) {
		wsgi.PlainErrorPage(w, r, nil) // and no source read for a page not shown
		return
	}
	writeFailure(w, r, p.appFailure(r, f, frameClasses()))
}

// appFailure builds the page of an app's failure: the panic's message, the
// user's frames with their source, the whole stack folded away, the request
// and the environ.
func (p Pages) appFailure(r *http.Request, f *wsgi.Failure, c classifier) failurePage {
	page := failurePage{
		Title:   "500 Internal Server Error: app \"" + f.App + "\" failed",
		Request: r.Method + " " + r.RequestURI,
		Message: clip(f.Err.Error(), maxMessage),
		Cut:     stackCut(f.Frames),
		Footer:  "wsgo shows this page, and the stack, only to clients on this machine.",
		Headers: headerList(r.Header),
		Environ: environList(f.Environ),
	}
	frames, others := c.failureFrames(f)
	page.Others = others.page
	if tb := tracebackOf(f.Err); tb != nil {
		page.Cut = ""
	}
	for _, fr := range frames {
		pf := p.pageFrame(fr)
		page.Stack = append(page.Stack, pf)
		if fr.Kind != userFrame {
			page.Folded++
			continue
		}
		if len(page.Frames) < maxFrameSources {
			pf.Source = excerpt(fr.File, fr.Line, sourceAround)
			if pf.Source == nil && fr.Source != "" {
				pf.Source = []srcLine{{N: fr.Line, Text: fr.Source, Hit: true}}
			}
			if fr.stale() {
				pf.Stale = staleNote
			}
		}
		page.Frames = append(page.Frames, pf)
	}
	if len(page.Frames) == 0 {
		// Not the user's code, or no stack at all: the gateway's text is
		// the story, and there is nothing to fold.
		page.Stack, page.Folded = nil, 0
		page.Detail = string(f.Stack)
		page.DetailHTML = p.linkFileLines(page.Detail, "")
	}
	page.Text = page.report(frames)
	return page
}

func (p Pages) pageFrame(f frame) pageFrame {
	return pageFrame{
		Function: f.Function,
		Where:    shortPath(f.File) + ":" + strconv.Itoa(f.Line),
		URL:      template.URL(p.Editor.URL(f.File, f.Line)),
		Kind:     kindNames[f.Kind],
		User:     f.Kind == userFrame,
	}
}

// report is the page as text: what a client that did not ask for HTML
// gets, and what "Copy as text" copies.
func (page failurePage) report(frames []frame) string {
	var b strings.Builder
	b.WriteString(page.Title + "\n\n")
	if page.Message != "" {
		b.WriteString(page.Message + "\n\n")
	}
	b.WriteString(page.Request + "\n\n")
	for i, f := range userFrames(frames) {
		fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
		if i >= maxFrameSources {
			continue
		}
		if line := cmp.Or(sourceLine(f.File, f.Line), f.Source); line != "" {
			fmt.Fprintf(&b, "\t%5d | %s\n", f.Line, line)
		}
		if f.stale() {
			b.WriteString("\t(" + staleNote + ")\n")
		}
	}
	if page.Cut != "" {
		b.WriteString("\n(" + page.Cut + ")\n")
	}
	if len(page.Frames) > 0 {
		b.WriteString("\nThe whole stack:\n")
		for _, f := range frames {
			fmt.Fprintf(&b, "%s\n\t%s:%d\n", f.Function, f.File, f.Line)
		}
	} else if page.Detail != "" {
		b.WriteString(strings.TrimRight(page.Detail, "\n") + "\n")
	}
	for _, part := range []struct {
		name string
		kvs  []keyValue
		sep  string
	}{{"Request headers", page.Headers, ": "}, {"Environ", page.Environ, "="}} {
		if len(part.kvs) == 0 {
			continue
		}
		b.WriteString("\n" + part.name + ":\n")
		for _, kv := range part.kvs {
			b.WriteString(kv.Key + part.sep + kv.Value + "\n")
		}
	}
	return b.String()
}

// headerList returns h sorted by name, one entry per value.
func headerList(h http.Header) []keyValue {
	var out []keyValue
	for _, name := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[name] {
			out = append(out, keyValue{name, v})
		}
	}
	return out
}

// environList returns env sorted by key: strings and what prints itself as
// they are, anything else (wsgi.input, wsgi.errors) by its type.
func environList(env wsgi.Environ) []keyValue {
	out := make([]keyValue, 0, len(env))
	for k, v := range env {
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case fmt.Stringer, bool, int:
			s = fmt.Sprint(v)
		default:
			s = fmt.Sprintf("%T", v)
		}
		out = append(out, keyValue{k, s})
	}
	slices.SortFunc(out, func(a, b keyValue) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// NewGateway returns the gateway the development server runs app behind:
// app's failures and wsgi.errors go to log, and clients on this machine get
// the detailed error page.
func NewGateway(app wsgi.App, name string, log *Logger) *wsgi.Gateway {
	return &wsgi.Gateway{App: app, Name: name, Log: log, ErrorPage: ErrorPage}
}

// local reports whether r is from this machine and addressed to it by a
// loopback name: see [whyNotLocal].
func local(r *http.Request) bool { return whyNotLocal(r) == "" }

// whyNotLocal says why r is not taken for a request of the developer's own
// browser, which alone sees the details of a failure, or "" if it is. It
// must come from a loopback address, and not through a proxy: a proxy on
// this machine (Via, X-Forwarded-For or Forwarded says so) makes every
// client's request loopback. It must name this machine too, against DNS
// rebinding: a page of another site, open in the developer's browser, can
// have its name resolve to 127.0.0.1 and read what this server answers,
// but its requests carry its own name. A browser sends a path: a request
// target in absolute form (GET http://localhost/ HTTP/1.1) is a proxy's,
// and net/http takes its host for the Host and drops the Host header that
// came with it.
func whyNotLocal(r *http.Request) string {
	if !isLoopback(r.RemoteAddr) {
		return fmt.Sprintf("it came from %s, not from this machine", r.RemoteAddr)
	}
	for _, h := range []string{"Via", "X-Forwarded-For", "Forwarded"} {
		if _, ok := r.Header[h]; ok {
			return "it came through a proxy (it has a " + h + " header)"
		}
	}
	if r.RequestURI != "" && !strings.HasPrefix(r.RequestURI, "/") {
		return fmt.Sprintf("its request target %q is not a path, as a browser sends", r.RequestURI)
	}
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = strings.Trim(r.Host, "[]")
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") || isLoopback(host) {
		return ""
	}
	return fmt.Sprintf("Host %q is not a loopback name", r.Host)
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
// stack's "/src/apps/demo.go:12", with the file and the line as groups;
// a Python app's load error names its .py files the same way.
var fileLine = regexp.MustCompile(`([\p{L}\p{N}_./\\@+~-]+\.(?:go|py)):(\d+)(?::\d+)?`)

// linkFileLines escapes text for HTML and wraps each file:line in <mark>,
// and in a link to the editor where the file is found from dir (see
// [Pages.resolve]).
func (p Pages) linkFileLines(text, dir string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range fileLine.FindAllStringSubmatchIndex(text, -1) {
		b.WriteString(template.HTMLEscapeString(text[last:m[0]]))
		pos := "<mark>" + template.HTMLEscapeString(text[m[0]:m[1]]) + "</mark>"
		line, _ := strconv.Atoi(text[m[4]:m[5]])
		if file := resolve(text[m[2]:m[3]], dir); file != "" {
			if u := p.Editor.URL(file, line); u != "" {
				pos = `<a href="` + template.HTMLEscapeString(u) + `">` + pos + "</a>"
			}
		}
		b.WriteString(pos)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String())
}
