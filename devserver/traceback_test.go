package devserver

import (
	"iter"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wsgo/wsgo/internal/syncbuf"
	"github.com/wsgo/wsgo/wsgi"
)

// foreignError is an error with a traceback of its own, as a Python
// exception raised in a worker process has.
type foreignError struct{ frames []wsgi.Frame }

func (e *foreignError) Error() string                 { return "ZeroDivisionError: division by zero" }
func (e *foreignError) TracebackFrames() []wsgi.Frame { return e.frames }
func (e *foreignError) TracebackText() string {
	return "Traceback (most recent call last):\n  File \"views.py\", line 3, in index\nZeroDivisionError: division by zero\n"
}

// tracebackFailure has an app panic with a foreignError whose user frame
// is line 3 of a views.py written for the test, and returns the page, the
// terminal's text and the failure.
func tracebackFailure(t *testing.T) (page, terminal string, f *wsgi.Failure, file string) {
	t.Helper()
	file = filepath.Join(t.TempDir(), "views.py")
	src := "import helpers\n\ndef index():\n    return 1 / 0\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	err := &foreignError{frames: []wsgi.Frame{
		{Function: "index", File: file, Line: 4, Source: "return 1 / 0", User: true},
		{Function: "dispatch", File: "/usr/lib/python3/dist-packages/flask/app.py", Line: 1523, Source: "return view()"},
		{Function: "handler", File: "/gone/handlers.py", Line: 9, Source: "return index()", User: true},
	}}
	var logged syncbuf.Buffer
	gw := NewGateway(wsgi.AppFunc(func(wsgi.Environ, wsgi.StartResponse) iter.Seq[[]byte] { panic(err) }), "py", NewLogger(&logged, false))
	gw.ErrorPage = func(w http.ResponseWriter, r *http.Request, got *wsgi.Failure) {
		f = got
		ErrorPage(w, r, got)
	}
	r := httptest.NewRequest("GET", "/boom", nil)
	r.Host = "127.0.0.1:8000"
	r.RemoteAddr = "127.0.0.1:5000"
	r.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	gw.ServeHTTP(rec, r)
	if rec.Code != 500 || f == nil {
		t.Fatalf("status %d, failure %v", rec.Code, f)
	}
	return rec.Body.String(), logged.String(), f, file
}

// TestTracebackPage: an error with a traceback of its own (a Python
// exception) is shown with its frames, not the Go stack it surfaced on:
// the user's first, with their source around the line (or the line the
// program read, when the file cannot be read) and an editor link; the
// library's folded away; and the gateway's report carries the
// traceback's text.
func TestTracebackPage(t *testing.T) {
	page, _, f, file := tracebackFailure(t)
	if f.Frames != nil || !strings.Contains(string(f.Stack), "Traceback (most recent call last)") {
		t.Errorf("the failure keeps the Go stack: frames %d, stack %q", len(f.Frames), f.Stack)
	}
	for _, want := range []string{
		"ZeroDivisionError: division by zero",
		`<span class="fn">index</span>`,
		"<span class=\"hit\"><i>4</i>    return 1 / 0</span>",
		"<i>1</i>import helpers",
		"vscode://file" + file + ":4",
		"<span class=\"hit\"><i>9</i>return index()</span>",
		"3 frames, 1 of them its language&#39;s library&#39;s or packages&#39;",
		`<li class="library">dispatch <span class="kind">(library)</span>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "wsgi.(*Gateway)") || strings.Contains(page, "traceback_test.go") {
		t.Error("the page shows Go frames for an error with a traceback of its own")
	}
	if strings.Index(page, "index") > strings.Index(page, "handler") {
		t.Error("the innermost frame is not first")
	}
}

// TestTracebackInTheTerminal: the terminal gets the user's frames of the
// traceback, each with its line (as the program read it, when the file
// cannot be read here), and how many others the page folds.
func TestTracebackInTheTerminal(t *testing.T) {
	_, terminal, _, _ := tracebackFailure(t)
	want := regexp.MustCompile(`app "py" failed on GET /boom: ZeroDivisionError: division by zero
    index
        \S*views.py:4
        4 \| return 1 / 0
    handler
        /gone/handlers.py:9
        9 \| return index\(\)
    \(1 frames of the language's library and packages: on the error page\)
`)
	if !want.MatchString(terminal) {
		t.Errorf("terminal:\n%s", terminal)
	}
}

// TestFailurePageLinksPython: a Python load error's positions are linked
// and shown with their source, as a build's are.
func TestFailurePageLinksPython(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.py"), []byte("x = 1\ndef f(:\n    pass\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Host, r.RemoteAddr = "localhost:8000", "127.0.0.1:5000"
	r.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	Pages{Dir: dir}.Problem("cannot load the Python app app.py: SyntaxError: invalid syntax\napp.py:2:7: invalid syntax").ServeHTTP(rec, r)
	body := rec.Body.String()
	if !strings.Contains(body, "vscode://file"+filepath.Join(dir, "app.py")+":2") || !strings.Contains(body, `<span class="hit"><i>2</i>def f(:</span>`) {
		t.Errorf("the page does not link and show app.py:2:\n%s", body)
	}
}
