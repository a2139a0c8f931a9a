package devserver

import (
	"errors"
	"go/build"
	"html"
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/wsgi"
)

// TestPanicFrameClassification: a frame is the user's when its package is
// in the main module or in a module replaced by a directory, wsgo's
// excepted; when wsgo itself is the program, its built-in apps are the
// user's. Everything else is wsgo's, Go's or a dependency's.
func TestPanicFrameClassification(t *testing.T) {
	user := classifierFor(&debug.BuildInfo{
		Main: debug.Module{Path: "example.com/site"},
		Deps: []*debug.Module{
			{Path: "example.com/lib", Version: "v0.0.0", Replace: &debug.Module{Path: "../lib"}},
			{Path: wsgoModule, Version: "v0.0.0", Replace: &debug.Module{Path: "../wsgo"}},
			{Path: "github.com/other/dep", Version: "v1.2.3"},
			{Path: "example.com/fork", Version: "v1.0.0", Replace: &debug.Module{Path: "example.com/fork2", Version: "v1.0.1"}},
		},
	})
	builtin := classifierFor(&debug.BuildInfo{Main: debug.Module{Path: wsgoModule}})
	tests := []struct {
		c    classifier
		fn   string
		want frameKind
	}{
		{user, "main.explode", userFrame},
		{user, "example.com/site.handler", userFrame},
		{user, "example.com/site/apps/shop.(*Cart).Add.func1", userFrame},
		{user, "example.com/lib.Helper", userFrame},
		{user, "example.com/my%2eapp.F", depFrame},
		{user, "example.com/sitemap.F", depFrame},
		{user, "github.com/wsgo/wsgo/wsgi.(*Gateway).ServeHTTP", wsgoFrame},
		{user, "github.com/wsgo/wsgo/apps.demo", wsgoFrame},
		{user, "runtime.gopanic", stdFrame},
		{user, "net/http.HandlerFunc.ServeHTTP", stdFrame},
		{user, "github.com/other/dep.Do[...]", depFrame},
		{user, "gopkg.in/yaml%2ev3.Unmarshal", depFrame},
		{user, "example.com/fork.F", depFrame},
		{builtin, "github.com/wsgo/wsgo/apps.demo.func2", userFrame},
		{builtin, "github.com/wsgo/wsgo/devserver.(*LiveReload).ServeHTTP", wsgoFrame},
		{builtin, "main.main", userFrame},
	}
	for _, tt := range tests {
		if got := tt.c.kind(runtime.Frame{Function: tt.fn}); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.fn, kindNames[got], kindNames[tt.want])
		}
	}
	if got := funcPackage("gopkg.in/yaml%2ev3.(*Decoder).Decode"); got != "gopkg.in/yaml.v3" {
		t.Errorf("funcPackage: %q", got)
	}
}

// TestPanicSourceExcerpt: an excerpt is the lines around the frame's, that
// line marked, cut at the file's ends; a file that cannot be read, or that
// has changed so that the line is gone, gives none.
func TestPanicSourceExcerpt(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.go")
	var src strings.Builder
	for i := 1; i <= 10; i++ {
		src.WriteString("line " + string(rune('0'+i%10)) + "\r\n")
	}
	if err := os.WriteFile(file, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := func(ls []srcLine) string {
		var b strings.Builder
		for _, l := range ls {
			mark := " "
			if l.Hit {
				mark = ">"
			}
			b.WriteString(mark + l.Text + "|")
		}
		return b.String()
	}
	for _, tt := range []struct {
		file        string
		line, round int
		want        string
	}{
		{file, 5, 2, " line 3| line 4|>line 5| line 6| line 7|"},
		{file, 1, 2, ">line 1| line 2| line 3|"},
		{file, 10, 3, " line 7| line 8| line 9|>line 0|"},
		{file, 11, 2, " line 9| line 0|>|"}, // the end of the file, as the compiler points at it
		{file, 12, 3, ""},
		{file, 0, 3, ""},
		{filepath.Join(dir, "missing.go"), 1, 3, ""},
		{dir, 1, 3, ""},
	} {
		if got := lines(excerpt(tt.file, tt.line, tt.round)); got != tt.want {
			t.Errorf("%s:%d ±%d: %q, want %q", filepath.Base(tt.file), tt.line, tt.round, got, tt.want)
		}
	}
	if got := sourceLine(file, 4); got != "line 4" {
		t.Errorf("sourceLine: %q", got)
	}
}

// TestEditorURLs: each editor's links follow its own scheme, a template
// its placeholders; the path is escaped so that it stays one part of the
// URL; "none" makes no links, and the zero Editor is VS Code's.
func TestEditorURLs(t *testing.T) {
	file := "/home/me/my site/a&b#c.go"
	for _, tt := range []struct{ editor, want string }{
		{"", "vscode://file/home/me/my%20site/a%26b%23c.go:12"},
		{"vscode", "vscode://file/home/me/my%20site/a%26b%23c.go:12"},
		{"cursor", "cursor://file/home/me/my%20site/a%26b%23c.go:12"},
		{"idea", "idea://open?file=/home/me/my%20site/a%26b%23c.go&line=12"},
		{"sublime", "subl://open?url=file:///home/me/my%20site/a%26b%23c.go&line=12"},
		{"zed://file{file}:{line}", "zed://file/home/me/my%20site/a%26b%23c.go:12"},
		{"http://127.0.0.1:63342/api/file?file={file}&line={line}", "http://127.0.0.1:63342/api/file?file=/home/me/my%20site/a%26b%23c.go&line=12"},
		{"none", ""},
	} {
		e, err := ParseEditor(tt.editor)
		if err != nil {
			t.Errorf("ParseEditor(%q): %v", tt.editor, err)
			continue
		}
		if got := e.URL(file, 12); got != tt.want {
			t.Errorf("%q: %s\nwant %s", tt.editor, got, tt.want)
		}
	}
	if got := (Editor{}).URL(`C:\src\x.go`, 3); got != "vscode://file/C:/src/x.go:3" {
		t.Errorf("a Windows path: %s", got)
	}
}

// TestEditorRejected: a name wsgo does not know that is no template, a
// template without a scheme, and a script's scheme are refused, with what
// to give instead.
func TestEditorRejected(t *testing.T) {
	for _, tt := range []struct{ editor, want string }{
		{"emacs", "want one of cursor, idea, sublime, vscode, none, or a URL template with {file} and {line}"},
		{"VSCode", "want one of"},
		{"/usr/bin/code {file}", "begins with the editor's scheme"},
		{"javascript:alert('{file}')", "the scheme javascript opens no editor"},
		{"DATA:text/html,{file}", "the scheme data opens no editor"},
	} {
		_, err := ParseEditor(tt.editor)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseEditor(%q): %v, want an error saying %q", tt.editor, err, tt.want)
		}
	}
}

// explode panics a level below the app, in a file of its own lines.
func explode() {
	panic("exploded <here>")
}

// failureOf runs app behind the development gateway and returns the
// failure it reports, and the request.
func failureOf(t *testing.T, app wsgi.AppFunc) (*http.Request, *wsgi.Failure) {
	t.Helper()
	var got *wsgi.Failure
	gw := NewGateway(app, "test", NewLogger(&syncbuf.Buffer{}, false))
	gw.ErrorPage = func(w http.ResponseWriter, r *http.Request, f *wsgi.Failure) { got = f }
	r := httptest.NewRequest("GET", "/x?q=1", nil)
	r.Host = "127.0.0.1:8000"
	r.RemoteAddr = "127.0.0.1:5000"
	r.Header.Set("Accept", "text/html")
	r.Header.Set("X-Trace", "abc")
	r.Header.Set("X-Evil", "</textarea><script>alert(1)</script>")
	gw.ServeHTTP(httptest.NewRecorder(), r)
	if got == nil {
		t.Fatal("the gateway reported no failure")
	}
	return r, got
}

// testClasses takes this package's test functions for the user's code.
var testClasses = classifier{user: []string{"github.com/wsgo/wsgo/devserver"}}

// TestPanicPage: the page of a panic puts the message and the user's frame
// first, with its source, the line marked, and a link to the editor; no
// frame of wsgo's comes before it; the rest of the stack is folded away;
// the request's headers and environ follow, sorted; the text a client
// without HTML gets is the text the copy button copies.
func TestPanicPage(t *testing.T) {
	r, f := failureOf(t, func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
		explode()
		return nil
	})
	ed, _ := ParseEditor("idea")
	page := Pages{Editor: ed}.appFailure(r, f, testClasses)
	var b strings.Builder
	if err := failureTemplate.Execute(&b, page); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	_, file, _, _ := runtime.Caller(0)

	frames := doc[strings.Index(doc, `<div id="frames">`):]
	first := frames[:strings.Index(frames[1:], `<div class="frame">`)+1]
	if !strings.Contains(frames, `<span class="fn">github.com/wsgo/wsgo/devserver.explode</span>`) {
		t.Fatalf("no frame for explode:\n%s", doc)
	}
	for _, want := range []string{
		`github.com/wsgo/wsgo/devserver.explode`,
		`href="idea://open?file=` + file + `&amp;line=`,
		`<span class="hit"><i>`, html.EscapeString(`panic("exploded <here>")`),
		`func explode() {`,
	} {
		if !strings.Contains(strings.SplitN(frames, `</div>`+"\n"+`<div class="frame">`, 2)[0], want) {
			t.Errorf("the first frame lacks %q:\n%s", want, first)
		}
	}
	if i := strings.Index(doc, "github.com/wsgo/wsgo/wsgi."); i < strings.Index(doc, `<details id="stack">`) {
		t.Errorf("a frame of wsgo's comes before the stack is folded:\n%s", doc)
	}
	details := doc[strings.Index(doc, `<details id="stack">`):]
	for _, want := range []string{"github.com/wsgo/wsgo/wsgi.(*Gateway).ServeHTTP", "(wsgo)", "testing.tRunner", "(Go)", "(yours)"} {
		if !strings.Contains(details, want) {
			t.Errorf("the folded stack lacks %q", want)
		}
	}
	if strings.Contains(doc, `<details id="stack" open`) {
		t.Error("the stack is not folded")
	}
	for _, want := range []string{"<td>X-Trace</td><td>abc</td>", "<td>PATH_INFO</td><td>/x</td>", "<td>QUERY_STRING</td><td>q=1</td>", "<td>wsgi.input</td><td>*wsgi.input</td>", `<button type="button" id="copy">`} {
		if !strings.Contains(doc, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	environ := doc[strings.Index(doc, `<table id="environ">`):]
	if strings.Contains(doc, "<script>alert(1)") || !strings.Contains(doc, "&lt;/textarea&gt;&lt;script&gt;alert(1)") {
		t.Errorf("a header's value is not escaped, in the tables and the text to copy:\n%s", doc)
	}
	if regexp.MustCompile(`(?s)PATH_INFO.*HTTP_X_TRACE.*</table>`).MatchString(environ[:strings.Index(environ, "</table>")+8]) {
		t.Error("the environ is not sorted")
	}

	text := page.text()
	if !strings.Contains(doc, `<textarea id="report" hidden readonly>`+html.EscapeString(text)+`</textarea>`) {
		t.Errorf("the text to copy is not the text form:\n%s", text)
	}
	for _, want := range []string{
		"500 Internal Server Error: app \"test\" failed\n\npanic: exploded <here>\n\nGET /x?q=1\n\ngithub.com/wsgo/wsgo/devserver.explode\n\t" + file + ":",
		`| panic("exploded <here>")`,
		"\nThe whole stack:\n", "github.com/wsgo/wsgo/wsgi.(*Gateway).ServeHTTP\n",
		"\nRequest headers:\nAccept: text/html\nX-Evil: </textarea><script>alert(1)</script>\nX-Trace: abc\n",
		"\nEnviron:\n", "PATH_INFO=/x\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q:\n%s", want, text)
		}
	}
}

// TestPanicPageWithoutUserFrames: a failure that is not in the user's code
// (or a broken rule, with no stack) shows the gateway's stack as it is,
// with nothing folded.
func TestPanicPageWithoutUserFrames(t *testing.T) {
	r, f := failureOf(t, func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
		explode()
		return nil
	})
	page := Pages{}.appFailure(r, f, classifier{user: []string{"example.com/none"}})
	if page.Frames != nil || page.Stack != nil || page.Detail != string(f.Stack) || !strings.Contains(string(page.DetailHTML), "<mark>") {
		t.Errorf("frames %d, stack %d, detail:\n%s", len(page.Frames), len(page.Stack), page.Detail)
	}
}

// TestPanicInTheTerminal: the terminal gets the failure in red and the
// user's frames, each with its line of source, and how many frames the
// error page folds away; for every client, and for one that does not get
// the page, why.
func TestPanicInTheTerminal(t *testing.T) {
	r, f := failureOf(t, func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
		explode()
		return nil
	})
	r.RemoteAddr = "203.0.113.7:5000"
	var out syncbuf.Buffer
	NewLogger(&out, true).failed(r, f, testClasses)
	plain := regexp.MustCompile("\x1b\\[[0-9;]*m").ReplaceAllString(out.String(), "")
	want := regexp.MustCompile(`^app "test" failed on GET /x\?q=1: panic: exploded <here>
    github.com/wsgo/wsgo/devserver.explode
        panicpage_test.go:\d+
        \d+ \| panic\("exploded <here>"\)
    github.com/wsgo/wsgo/devserver.TestPanicInTheTerminal.func1
        panicpage_test.go:\d+
        \d+ \| explode\(\)
(?s:.*)    \(\d+ frames of wsgo, Go and dependencies: on the error page\)
    details not shown to this client: it came from 203\.0\.113\.7:5000, not from this machine
$`)
	if !want.MatchString(plain) {
		t.Errorf("terminal:\n%s", plain)
	}
	if !strings.Contains(out.String(), "\x1b[31mapp \"test\" failed") {
		t.Errorf("the first line is not red: %q", out.String())
	}
	if strings.Contains(plain, "wsgi.(*Gateway)") {
		t.Errorf("the terminal shows wsgo's frames:\n%s", plain)
	}
}

// TestFailurePageSources: a build's page shows the source around each
// file:line of the compiler's output, found from the directory the go
// command ran in (the module's root, above the working directory, when not
// told), that line marked, with a link to the editor; each position once.
func TestFailurePageSources(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "sub", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"go.mod":     "module example.com/m\n",
		"sub/x.go":   "package sub\n\nfunc F() int {\n\treturn x <nope>\n}\n",
		"sub/y.go":   "package sub\n",
		"README.txt": "not go\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A crash's stack names Go's files and the dependencies': not shown.
	cache := t.TempDir()
	t.Setenv("GOMODCACHE", cache)
	dep := filepath.Join(cache, "example.com", "dep@v1.0.0", "dep.go")
	if err := os.MkdirAll(filepath.Dir(dep), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dep, []byte("package dep\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	goFile := filepath.Join(build.Default.GOROOT, "src", "runtime", "panic.go")
	output := "Build failed in 1s (go build .)\n\n# example.com/m/sub\nsub/x.go:4:9: undefined: x\nsub/x.go:4:9: again\nsub/gone.go:1:1: no such file\n" +
		"\t" + goFile + ":10 +0x1d\n\t" + dep + ":1 +0x1d\n"
	t.Chdir(filepath.Join(root, "sub", "deeper")) // Dir, not the working directory, decides
	for _, p := range []Pages{{Editor: Editor{template: editors["sublime"]}, Dir: root}} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = "localhost:8000"
		r.RemoteAddr = "127.0.0.1:5000"
		r.Header.Set("Accept", "text/html")
		w := httptest.NewRecorder()
		p.Problem(output).ServeHTTP(w, r)
		doc := w.Body.String()
		link := `href="subl://open?url=file://` + filepath.Join(root, "sub", "x.go") + `&amp;line=4"`
		for _, want := range []string{
			`<a class="loc" ` + link + `>sub/x.go:4:9</a>`,
			`<span class="hit"><i>4</i>	return x &lt;nope&gt;</span>`,
			`<span><i>3</i>func F() int {</span>`,
			`<a ` + link + `><mark>sub/x.go:4:9</mark></a>: undefined: x`,
			`<mark>sub/gone.go:1:1</mark>: no such file`,
		} {
			if !strings.Contains(doc, want) {
				t.Errorf("Dir %q: the page lacks %s:\n%s", p.Dir, want, doc)
			}
		}
		if n := strings.Count(doc, `<span class="hit">`); n != 1 {
			t.Errorf("Dir %q: %d excerpts, want 1", p.Dir, n)
		}
	}
}

// TestPanicMessageEscapedInTheTerminal: a panic's message often holds the
// client's text; its control characters reach the terminal escaped, and a
// newline in it forges no log line.
func TestPanicMessageEscapedInTheTerminal(t *testing.T) {
	for _, frames := range []bool{true, false} {
		r, f := failureOf(t, func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
			explode()
			return nil
		})
		f.Err = errors.New("no user \x1b]0;PWNED\x07\nforged line")
		if !frames {
			f.Frames = nil // the report without the user's frames
		}
		var out syncbuf.Buffer
		NewLogger(&out, false).failed(r, f, testClasses)
		if strings.Contains(out.String(), "\x1b]") || strings.Contains(out.String(), "\nforged") {
			t.Errorf("the terminal got the raw message: %q", out.String())
		}
		if !strings.Contains(out.String(), `no user \x1b]0;PWNED\x07\x0aforged line`) {
			t.Errorf("the message is not in the terminal, escaped: %q", out.String())
		}
	}
}

// localRequest is a request from this machine, for a page's details.
func localRequest(accept string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "localhost:8000"
	r.RemoteAddr = "127.0.0.1:5000"
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	return r
}

// TestFailureTextSources: the text form of a build's page (what curl gets)
// shows, after the compiler's output, the source around each position, as
// the HTML page does: the position, then the numbered lines, its own marked.
func TestFailureTextSources(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "x.go"), []byte("package m\n\nfunc F() int {\n\treturn x\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	Pages{Dir: root}.Problem("Build failed in 1s (go build .)\n\n# example.com/m\nx.go:4:9: undefined: x\n").ServeHTTP(w, localRequest(""))
	want := "Build failed in 1s (go build .)\n\n# example.com/m\nx.go:4:9: undefined: x\n\n" +
		"x.go:4:9\n      1 | package m\n      2 | \n      3 | func F() int {\n>     4 | \treturn x\n      5 | }\n"
	if got := w.Body.String(); got != want {
		t.Errorf("text form:\n%s\nwant:\n%s", got, want)
	}
}

// TestHugePanicMessageIsCut: a panic carrying megabytes shows its first
// bytes, and how many more there are, on the page (the message and the text
// to copy) and in the terminal.
func TestHugePanicMessageIsCut(t *testing.T) {
	r, f := failureOf(t, func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
		panic(strings.Repeat("A", 4<<20))
	})
	var b strings.Builder
	if err := failureTemplate.Execute(&b, Pages{}.appFailure(r, f, testClasses)); err != nil {
		t.Fatal(err)
	}
	var out syncbuf.Buffer
	NewLogger(&out, false).failed(r, f, testClasses)
	for where, got := range map[string]string{"page": b.String(), "terminal": out.String()} {
		if len(got) > 64<<10 || !strings.Contains(got, "AAAA… (") || !strings.Contains(got, " more bytes)") {
			t.Errorf("the %s has %d bytes: %.300q", where, len(got), got)
		}
	}
}

// TestHugeBuildOutputIsCut: a build's output of megabytes shows its first
// bytes on the page, and how many more there are.
func TestHugeBuildOutputIsCut(t *testing.T) {
	output := "Build failed in 1s (go build .)\n\n" + strings.Repeat("nothing to see here\n", 1<<17)
	for _, accept := range []string{"", "text/html"} {
		w := httptest.NewRecorder()
		Pages{Dir: t.TempDir()}.Problem(output).ServeHTTP(w, localRequest(accept))
		if got := w.Body.String(); len(got) > maxOutput+8<<10 || !strings.Contains(got, " more bytes)") {
			t.Errorf("Accept %q: %d bytes, ending %q", accept, len(got), got[max(0, len(got)-300):])
		}
	}
}

//go:noinline
func recurse(n int) int {
	if n == 0 {
		panic("deep enough")
	}
	return recurse(n-1) + 1
}

// TestDeepRecursion: a panic under deep recursion shows the source of the
// first of the user's frames only, on the page and in the terminal, which
// says how many more there are; the page says the stack was cut, as the
// gateway keeps only so many frames. A shallow stack is not cut.
func TestDeepRecursion(t *testing.T) {
	r, f := failureOf(t, func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
		recurse(500)
		return nil
	})
	page := Pages{}.appFailure(r, f, testClasses)
	var b strings.Builder
	if err := failureTemplate.Execute(&b, page); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	if n := strings.Count(doc, `<pre class="src">`); len(page.Frames) < 100 || n != maxFrameSources {
		t.Errorf("%d of the user's frames, %d with source", len(page.Frames), n)
	}
	if !strings.Contains(doc, `<p class="cut">(stack cut at `) || !strings.Contains(page.text(), "\n(stack cut at ") {
		t.Errorf("the page does not say the stack was cut: %q", page.Cut)
	}
	if n := strings.Count(page.text(), "| return recurse(n-1) + 1\n"); n != maxFrameSources-1 {
		t.Errorf("the text shows the source of %d frames", n)
	}
	var out syncbuf.Buffer
	NewLogger(&out, false).failed(r, f, testClasses)
	term := out.String()
	if n := strings.Count(term, "devserver.recurse\n"); n != maxFrameSources {
		t.Errorf("the terminal lists %d frames", n)
	}
	if !regexp.MustCompile(`\n    … \d+ more frames of yours\n    \(stack cut at \d+ frames`).MatchString(term) {
		t.Errorf("the terminal does not say what it left out:\n%s", term[max(0, len(term)-500):])
	}

	r, f = failureOf(t, func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] {
		explode()
		return nil
	})
	if cut := (Pages{}).appFailure(r, f, testClasses).Cut; cut != "" {
		t.Errorf("a shallow stack: %q", cut)
	}
}

// TestStaleSource: when a frame's file changed after the program started,
// the page, its text form and the terminal say so next to its source; a
// file older than the program has no such note.
func TestStaleSource(t *testing.T) {
	file := filepath.Join(t.TempDir(), "x.go")
	if err := os.WriteFile(file, []byte("package m\n\nfunc F() { panic(1) }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &wsgi.Failure{App: "test", Err: errors.New("boom"), Frames: []runtime.Frame{
		{Function: "example.com/m.F", File: file, Line: 3},
		{Function: "runtime.goexit"},
	}}
	c := classifier{user: []string{"example.com/m"}}
	for _, stale := range []bool{true, false} {
		mtime := started.Add(-time.Hour)
		if stale {
			mtime = started.Add(time.Hour)
		}
		if err := os.Chtimes(file, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		r := localRequest("text/html")
		page := Pages{}.appFailure(r, f, c)
		var b strings.Builder
		if err := failureTemplate.Execute(&b, page); err != nil {
			t.Fatal(err)
		}
		var out syncbuf.Buffer
		NewLogger(&out, false).failed(r, f, c)
		for where, got := range map[string]string{"page": b.String(), "text": page.text(), "terminal": out.String()} {
			if strings.Contains(got, "changed since this server started") != stale {
				t.Errorf("stale %v: the %s:\n%s", stale, where, got)
			}
		}
		if stale && !strings.Contains(b.String(), `<span class="stale">(changed since this server started`) {
			t.Errorf("the note is not next to the frame:\n%s", b.String())
		}
	}
}
